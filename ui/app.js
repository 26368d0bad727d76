// app.js - the console's shell: the subscription picker, signing in with a bearer token, the
// breadcrumb, and a router over the part of the URL after '#' (never sent to the server):
//   #/subscriptions/{sub}                                         clusters of a subscription
//   #/subscriptions/{sub}/resourceGroups/{rg}/clusters/{c}        a cluster and its pools
//   #/subscriptions/{sub}/resourceGroups/{rg}/clusters/{c}/pools/{p}   a pool
//   #/subscriptions/{sub}/resourceGroups/{rg}/clusters/{c}/add    the add-pool form
// Each page gets a context: where to draw, an AbortSignal that fires when the user leaves, a timer
// that only runs while it is shown, and ready(), which marks the first complete render (the browser
// test measures it with performance.mark).

import {h, replace, note, link} from './dom.js';
import * as api from './api.js';
import {subscriptionPage, clusterPage} from './cluster.js';
import {poolPage} from './pool.js';
import {addPoolPage} from './addpool.js';

const SUB_KEY = 'gpupool.subscription';
const REFRESH_KEY = 'gpupool.refreshMs'; // how often a live page asks again (default 5 s)
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const P = '([^/]+)';
const ROUTES = [
  [new RegExp(`^/subscriptions/${P}/resourceGroups/${P}/clusters/${P}/pools/${P}$`), ['sub', 'rg', 'cluster', 'pool'], poolPage],
  [new RegExp(`^/subscriptions/${P}/resourceGroups/${P}/clusters/${P}/add$`), ['sub', 'rg', 'cluster'], addPoolPage],
  [new RegExp(`^/subscriptions/${P}/resourceGroups/${P}/clusters/${P}$`), ['sub', 'rg', 'cluster'], clusterPage],
  [new RegExp(`^/subscriptions/${P}$`), ['sub'], subscriptionPage],
];

const main = document.getElementById('main');
const crumbsEl = document.getElementById('crumbs');
const liveRegion = document.getElementById('announce');
const subInput = document.getElementById('sub-input');
const authArea = document.getElementById('auth-area');
const dialog = document.getElementById('auth-dialog');
const tokenInput = document.getElementById('token-input');
const rememberBox = document.getElementById('token-remember');

const subscription = () => sessionStorage.getItem(SUB_KEY) || api.DEFAULT_SUBSCRIPTION;

let current = null;
let navigations = 0;

function stopCurrent() {
  if (!current) return;
  current.abort.abort();
  current.timers.forEach(clearInterval);
  current = null;
}

function crumbs(items) {
  document.title = `${items[items.length - 1].text} · gpupool console`;
  replace(crumbsEl, h('ol', {}, items.map((c, i) => h('li', {},
    c.href && i < items.length - 1 ? h('a', {href: c.href}, c.text) : h('span', {'aria-current': 'page'}, c.text)))));
}

function errorPage(e) {
  const auth = e.status === 401;
  crumbs([{text: 'Subscriptions', href: link.subscription(subscription())}, {text: auth ? 'Sign in' : 'Error'}]);
  const denied = e.status === 403;
  replace(main,
    h('div', {class: 'page-head'}, h('h1', {id: 'page-title', tabindex: '-1'},
      auth ? 'Sign in to continue' : denied ? 'Not allowed' : 'This page could not be loaded')),
    h('div', {class: 'panel'},
      h('p', {class: 'error-code'}, h('strong', {}, e.code || 'Error'), e.status ? ` (HTTP ${e.status})` : ''),
      h('p', {}, e.message || String(e)),
      auth ? h('p', {}, 'This gpupoold asks who you are. ', h('button', {type: 'button', class: 'button primary', onclick: openSignIn}, 'Sign in with a token'))
        : denied ? note('Your token may not read this. Ask for a role assignment that covers it, or sign in with another token.', 'info') : null));
  document.documentElement.dataset.ready = 'error';
}

async function route() {
  const hash = location.hash;
  if (!hash.startsWith('#/')) {
    if (hash === '' || hash === '#' || hash === '#/') location.replace(link.subscription(subscription()));
    return; // other fragments are in-page anchors
  }
  const path = hash.slice(1);
  stopCurrent();
  delete document.documentElement.dataset.ready;
  const found = ROUTES.map(([re, names, view]) => [re.exec(path), names, view]).find(([m]) => m);
  if (!found) { location.replace(link.subscription(subscription())); return; }
  const [m, names, view] = found;
  let params;
  try {
    params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
  } catch {
    location.replace(link.subscription(subscription()));
    return;
  }
  if (GUID.test(params.sub)) {
    sessionStorage.setItem(SUB_KEY, params.sub);
    subInput.value = params.sub;
  }
  const me = {abort: new AbortController(), timers: []};
  current = me;
  const refreshMs = Math.max(200, Number(sessionStorage.getItem(REFRESH_KEY)) || 5000);
  const ctx = {
    main, params, signal: me.abort.signal, crumbs,
    ready(name) {
      if (current !== me) return;
      performance.mark(`gp-ready-${name}`);
      document.documentElement.dataset.ready = name;
    },
    every(fn) {
      me.timers.push(setInterval(() => { if (!document.hidden && current === me) fn(); }, refreshMs));
    },
    announce(text) {
      replace(liveRegion, text);
    },
  };
  replace(main, h('p', {class: 'loading'}, 'Loading…'));
  try {
    await view(ctx);
    if (current === me && navigations++ > 0) {
      const t = document.getElementById('page-title');
      if (t) t.focus({preventScroll: true});
    }
  } catch (e) {
    if (current !== me || e.name === 'AbortError') return;
    errorPage(e);
  }
}

// ---- the header: subscription and token ------------------------------------------------------------

document.getElementById('sub-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = subInput.value.trim();
  if (!GUID.test(v)) {
    subInput.setCustomValidity('A subscription id is a GUID, e.g. 00000000-0000-0000-0000-000000000000.');
    subInput.reportValidity();
    return;
  }
  subInput.setCustomValidity('');
  location.hash = link.subscription(v.toLowerCase());
});
subInput.addEventListener('input', () => subInput.setCustomValidity(''));

function drawAuth() {
  replace(authArea, api.hasToken()
    ? [h('span', {class: 'auth-state'}, api.tokenRemembered() ? 'Token kept for this tab' : 'Token in memory'),
      h('button', {type: 'button', class: 'button small', onclick: () => { api.setToken(null); drawAuth(); route(); }}, 'Sign out')]
    : [h('span', {class: 'auth-state'}, 'No token'),
      h('button', {type: 'button', class: 'button small', onclick: openSignIn}, 'Sign in')]);
}

function openSignIn() {
  if (dialog.open) return;
  tokenInput.value = '';
  dialog.showModal();
  tokenInput.focus();
}

document.getElementById('auth-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = tokenInput.value.trim().replace(/^bearer\s+/i, '');
  tokenInput.value = '';
  if (!t) return;
  api.setToken(t, rememberBox.checked);
  dialog.close();
  drawAuth();
  route();
});
document.getElementById('auth-cancel').addEventListener('click', () => dialog.close());
api.onAuthNeeded(() => { drawAuth(); openSignIn(); });

document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

subInput.value = subscription();
drawAuth();
window.addEventListener('hashchange', route);
route();
