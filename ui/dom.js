// dom.js - building the page without markup strings. Every text goes in through textContent or an
// attribute value, never through innerHTML: a tag value like <img src=x onerror=…> stays text. The
// server's Content-Security-Policy (Trusted Types, no inline script) enforces the same rule.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h('a', {href: '#/x', class: 'link'}, 'text', child…)
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// The same for SVG elements.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// A small table: columns [{title, cell(row) -> node|text, class}], rows.
export function table(caption, columns, rows, opts = {}) {
  return h('div', {class: 'table-wrap'},
    h('table', {class: ['data', opts.class]},
      caption ? h('caption', {class: opts.showCaption ? null : 'sr-only'}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col', class: c.class}, c.title)))),
      h('tbody', {}, rows.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {},
        columns.map((c, i) => (i === 0 && opts.rowHeader !== false ? h('th', {scope: 'row', class: c.class}, c.cell(r))
                                                                  : h('td', {class: c.class, 'data-label': c.title}, c.cell(r)))))))));
}

// key/value list as <dl>
export function kv(entries, cls) {
  return h('dl', {class: ['kv', cls]}, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function badge(text, kind) {
  return h('span', {class: ['badge', kind ? 'badge-' + kind : null]}, text);
}

export function section(title, id, ...body) {
  const hid = id + '-h';
  return h('section', {class: 'panel', id, 'aria-labelledby': hid}, h('h2', {id: hid}, title), body);
}

export function note(text, kind) {
  return h('p', {class: ['note', kind ? 'note-' + kind : null]}, text);
}

// "3 minutes ago" for an RFC 3339 time; the exact time goes in the title.
export function ago(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return h('span', {}, iso ? String(iso) : '—');
  const d = Math.round((Date.now() - t) / 1000);
  const text = d < 5 ? 'just now' : d < 90 ? `${d} s ago` : d < 5400 ? `${Math.round(d / 60)} min ago`
    : d < 172800 ? `${Math.round(d / 3600)} h ago` : `${Math.round(d / 86400)} days ago`;
  return h('time', {datetime: iso, title: iso}, text);
}

// Known enum-like states get a colour; anything else is shown as neutral text.
const STATE_KINDS = {
  Succeeded: 'ok', Conformant: 'ok', Healthy: 'ok', Completed: 'ok', Registered: 'ok',
  Creating: 'busy', Updating: 'busy', Deleting: 'busy', Applying: 'busy', Progressing: 'busy', InProgress: 'busy',
  Registering: 'busy',
  Failed: 'bad', Unhealthy: 'bad', Halted: 'bad', Canceled: 'warn', Aborted: 'warn', Drifted: 'warn',
  Degraded: 'warn', NotReporting: 'warn', NotRegistered: 'muted', Idle: 'muted',
};
export function stateBadge(state) {
  return badge(state || '—', Object.hasOwn(STATE_KINDS, state) ? STATE_KINDS[state] : 'muted');
}

// The console's own addresses: everything after '#', so none of it is ever sent to the server.
const e = encodeURIComponent;
export const link = {
  subscription: (sub) => `#/subscriptions/${e(sub)}`,
  cluster: (sub, rg, c) => `#/subscriptions/${e(sub)}/resourceGroups/${e(rg)}/clusters/${e(c)}`,
  pool: (sub, rg, c, p) => `${link.cluster(sub, rg, c)}/pools/${e(p)}`,
  addPool: (sub, rg, c) => `${link.cluster(sub, rg, c)}/add`,
};
