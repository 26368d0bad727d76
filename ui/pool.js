// pool.js - the pool page: what the pool declares, what is in effect and why (the plan), what gets
// installed, the MIG layout of each GPU, allocatable resources, warnings, nodes and rollout. It
// follows the pool live: every few seconds it asks again with the ETags it has (the plan answers
// 304 when its generation did not move) and redraws only the panels whose data changed.

import {h, replace, table, kv, stateBadge, section, note, link} from './dom.js';
import {get, paths, vmSize} from './api.js';
import {layoutFigure, planInstances} from './mig.js';
import {nodesPanel, rolloutPanel} from './fleet.js';

const SOURCES = {
  declared: 'declared on the pool',
  default: 'default',
  cluster: 'the cluster\'s default',
  'kubernetes-version-default': 'GA default for this Kubernetes version',
  'legacy-tag': 'legacy tag EnableManagedGPUExperience',
  'preview-default': 'preview default (driver only)',
  'mig-default': 'MIG default: a profile without a strategy runs Single',
  'gpu-instance-profile': 'gpuInstanceProfile, as many times as fits',
};

const dash = (v) => (v === undefined || v === null || v === '' ? h('span', {class: 'muted'}, 'not declared') : String(v));
const list = (v) => (Array.isArray(v) ? v.join(', ') : v);

function settingsRows(pool, plan) {
  const p = (pool && pool.properties) || {};
  const gp = p.gpuProfile || {};
  const nv = gp.nvidia || {};
  const eff = (plan && plan.effective) || {};
  const src = eff.sources || {};
  return [
    {name: 'GPU driver', field: 'gpuProfile.driver', declared: gp.driver, effective: eff.driver, source: src.driver},
    {name: 'Management mode', field: 'gpuProfile.nvidia.managementMode', declared: nv.managementMode,
      current: nv.currentManagementMode, effective: eff.managementMode, source: src.managementMode},
    {name: 'Driver mode', field: 'gpuProfile.nvidia.driverMode', declared: nv.driverMode, current: nv.currentDriverMode,
      effective: eff.driverMode, source: src.driverMode},
    {name: 'MIG strategy', field: 'gpuProfile.nvidia.migStrategy', declared: nv.migStrategy, current: nv.currentMigStrategy,
      effective: eff.migStrategy, source: src.migStrategy},
    {name: 'MIG profiles', field: 'gpuProfile.nvidia.migProfiles', declared: list(nv.migProfiles),
      effective: list(eff.migProfiles),
      // the plan names no source for the profiles: they come from one of the two fields that set them
      source: src.migProfiles || (eff.migProfiles && eff.migProfiles.length
        ? (p.gpuInstanceProfile ? 'gpu-instance-profile' : nv.migProfiles ? 'declared' : undefined) : undefined)},
    {name: 'GPU instance profile', field: 'gpuInstanceProfile', declared: p.gpuInstanceProfile, effective: undefined,
      source: undefined},
  ].filter((r) => r.declared !== undefined || r.effective !== undefined || r.name !== 'GPU instance profile');
}

function settingsPanel(pool, plan, planError) {
  const rows = settingsRows(pool, plan);
  const drift = rows.filter((r) => r.current !== undefined && r.effective !== undefined && r.current !== r.effective);
  return [
    table('Declared and effective GPU settings', [
      {title: 'Setting', cell: (r) => [r.name, h('code', {class: 'field'}, r.field)]},
      {title: 'Declared', cell: (r) => dash(r.declared)},
      {title: 'Effective', cell: (r) => (r.effective === undefined ? h('span', {class: 'muted'}, '—') : h('strong', {}, r.effective))},
      {title: 'Where it came from', cell: (r) => (r.source ? h('span', {title: r.source}, Object.hasOwn(SOURCES, r.source) ? SOURCES[r.source] : r.source)
        : h('span', {class: 'muted'}, '—'))},
    ], rows, {class: 'settings', rowAttrs: (r) => ({'data-field': r.field})}),
    planError ? note(planError, 'info') : null,
    drift.length ? note('The pool reports ' + drift.map((r) => `${r.name.toLowerCase()} ${r.current}`).join(', ') +
      ' while its plan says otherwise: the plan is being updated.', 'info') : null,
  ];
}

function summaryCards(pool, plan) {
  const p = pool.properties || {};
  const gpu = plan && plan.gpu;
  const card = (label, value, extra) => h('div', {class: 'card'}, h('div', {class: 'card-label'}, label),
    h('div', {class: 'card-value'}, value), extra ? h('div', {class: 'card-extra'}, extra) : null);
  return [
    card('VM size', p.vmSize || '—'),
    card('GPU', gpu ? `${gpu.count} × ${gpu.model}` : '—', gpu ? [gpu.vendor, gpu.migCapable ? ' · MIG-capable' : ''] : null),
    card('Nodes', String(p.count ?? '—'), p.mode ? `${p.mode} pool` : null),
    card('Kubernetes', p.currentOrchestratorVersion || p.orchestratorVersion || '—', [p.osType, p.osSKU].filter(Boolean).join(' · ')),
    card('Plan', plan ? `generation ${plan.generation}` : '—', plan && plan.effective ? `${plan.effective.managementMode || ''}` : null),
  ];
}

function migPanel(plan, catalog) {
  if (!plan) return note('No plan yet.', 'info');
  const inst = planInstances(plan, catalog);
  if (!plan.migLayout || !(plan.migLayout.instances || []).length) {
    return note(plan.gpu && plan.gpu.migCapable ? 'MIG is not used: each GPU is given whole.'
      : 'This VM size has no MIG-capable GPU: each GPU is given whole.', 'info');
  }
  if (!inst) return note('The GPU catalog does not describe this layout\'s profiles; see the plan\'s migLayout.', 'error');
  const gpus = plan.migLayout.gpus || (plan.gpu && plan.gpu.count) || 1;
  return [h('p', {class: 'lead'}, `${inst.length} instance${inst.length === 1 ? '' : 's'} on each of ${gpus} GPU${gpus === 1 ? '' : 's'}` +
    (plan.effective && plan.effective.migStrategy ? `, device plugin strategy ${plan.effective.migStrategy}.` : '.')),
  layoutFigure(gpus, inst)];
}

function componentsPanel(plan) {
  if (!plan) return note('No plan yet.', 'info');
  const comps = plan.components || [];
  if (!comps.length) return note('Nothing is installed on the nodes: no GPU software.', 'info');
  return table('Components installed on each node', [
    {title: 'Component', cell: (c) => c.name},
    {title: 'Version', cell: (c) => c.version || h('span', {class: 'muted'}, '—')},
    {title: 'Image / arguments', cell: (c) => [c.image ? h('code', {class: 'wrap'}, c.image) : null,
      Array.isArray(c.args) && c.args.length ? h('div', {}, h('code', {class: 'wrap'}, c.args.join(' '))) : null]},
  ], comps, {class: 'components'});
}

function allocPanel(plan) {
  if (!plan) return note('No plan yet.', 'info');
  const a = Object.entries(plan.allocatable || {});
  const l = Object.entries(plan.nodeLabels || {});
  return [
    h('h3', {}, 'Allocatable per node'),
    a.length ? kv(a.map(([k, v]) => [h('code', {}, k), String(v)]), 'alloc') : note('Nothing GPU-related is advertised to the scheduler.', 'info'),
    h('h3', {}, 'Node labels'),
    l.length ? kv(l.map(([k, v]) => [h('code', {}, k), String(v)]), 'labels') : note('None.', 'info'),
  ];
}

function decisionsPanel(plan) {
  if (!plan) return note('No plan yet.', 'info');
  return table('How the plan was decided', [
    {title: 'Rule', cell: (d) => h('code', {}, d.rule)},
    {title: 'Outcome', cell: (d) => h('strong', {}, d.outcome)},
    {title: 'Reason', cell: (d) => d.reason},
  ], plan.decisions || [], {class: 'decisions'});
}

function warningsPanel(plan) {
  const w = (plan && plan.warnings) || [];
  if (!w.length) return note('No warnings.', 'ok');
  return h('ul', {class: 'warnings'}, w.map((t) => h('li', {}, t)));
}

function tagsPanel(pool) {
  const t = Object.entries(pool.tags || {});
  const p = pool.properties || {};
  const taints = p.nodeTaints || [];
  return [
    t.length ? kv(t.map(([k, v]) => [k, String(v)]), 'tags') : note('No tags.', 'info'),
    h('h3', {}, 'Node taints'),
    taints.length ? h('ul', {class: 'plain'}, taints.map((x) => h('li', {}, h('code', {}, x)))) : note('None.', 'info'),
  ];
}

export async function poolPage(ctx) {
  const {sub, rg, cluster, pool} = ctx.params;
  const base = paths.pool(sub, rg, cluster, pool);
  const st = {pool: null, poolEtag: null, plan: null, planEtag: null, planError: null, machines: null, catalog: null};
  const badgeBox = h('span', {class: 'title-badge'});
  const liveText = h('span', {}, 'loading…');
  const P = {};
  const panel = (key, title) => (P[key] = section(title, 'panel-' + key, h('div', {class: 'panel-body'})));
  const body = (key) => P[key].querySelector('.panel-body');
  const summary = h('div', {class: 'cards', id: 'summary'});
  ctx.crumbs([{text: sub, href: link.subscription(sub)}, {text: `${rg} / ${cluster}`, href: link.cluster(sub, rg, cluster)},
    {text: pool}]);
  replace(ctx.main,
    h('div', {class: 'page-head'}, h('h1', {id: 'page-title', tabindex: '-1'}, h('span', {class: 'kind'}, 'Agent pool '), pool, ' ', badgeBox),
      h('p', {class: 'live', id: 'live'}, h('span', {class: 'live-dot', 'aria-hidden': 'true'}), liveText)),
    summary,
    panel('warnings', 'Warnings'),
    panel('settings', 'GPU settings: declared and in effect'),
    panel('mig', 'MIG layout'),
    h('div', {class: 'grid-2'}, panel('nodes', 'Nodes'), panel('rollout', 'Rollout')),
    panel('components', 'Components'),
    h('div', {class: 'grid-2'}, panel('alloc', 'Scheduling'), panel('tags', 'Tags')),
    panel('decisions', 'Decisions'));

  const loadPool = async () => {
    const r = await get(base, {signal: ctx.signal});
    const changed = !st.pool || r.etag !== st.poolEtag ||
      JSON.stringify(r.json.properties && r.json.properties.status) !== JSON.stringify(st.pool.properties && st.pool.properties.status) ||
      (r.json.properties && r.json.properties.provisioningState) !== (st.pool.properties && st.pool.properties.provisioningState);
    st.pool = r.json;
    st.poolEtag = r.etag;
    return changed;
  };
  const loadPlan = async () => {
    try {
      const r = await get(paths.plan(sub, rg, cluster, pool), {signal: ctx.signal,
        headers: st.planEtag ? {'If-None-Match': st.planEtag} : {}});
      if (r.status === 304) return false;
      st.plan = r.json;
      st.planEtag = r.etag;
      st.planError = null;
      return true;
    } catch (e) {
      if (e.code !== 'PlanNotReady') throw e;
      const was = st.planError;
      st.planError = 'The plan is not ready yet: the pool\'s first operation is still running.';
      return was !== st.planError;
    }
  };
  const loadMachines = async () => {
    let m;
    try {
      const r = await get(paths.machines(sub, rg, cluster, pool), {signal: ctx.signal, query: {'$top': '200'}});
      m = {items: (r.json && r.json.value) || [], next: r.json && r.json.nextLink};
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      m = e.status === 404 && e.code === 'NotFound' ? {unavailable: true} : {error: e};
    }
    const changed = JSON.stringify(m) !== JSON.stringify(st.machines);
    st.machines = m;
    return changed;
  };
  const loadCatalog = async () => {
    const size = st.plan ? st.plan.vmSize : st.pool && st.pool.properties && st.pool.properties.vmSize;
    if (!size || (st.catalog && st.catalog.name.toLowerCase() === size.toLowerCase())) return false;
    try { st.catalog = await vmSize(sub, size); } catch { st.catalog = null; return false; }
    return true;
  };

  const draw = (what) => {
    const pl = st.pool;
    if (what.pool) {
      replace(badgeBox, stateBadge(pl.properties && pl.properties.provisioningState));
      replace(body('tags'), tagsPanel(pl));
      replace(body('rollout'), rolloutPanel(pl));
    }
    if (what.pool || what.plan) {
      replace(summary, summaryCards(pl, st.plan));
      replace(body('settings'), settingsPanel(pl, st.plan, st.planError));
    }
    if (what.plan || what.catalog) replace(body('mig'), migPanel(st.plan, st.catalog));
    if (what.plan) {
      replace(body('warnings'), warningsPanel(st.plan));
      replace(body('components'), componentsPanel(st.plan));
      replace(body('alloc'), allocPanel(st.plan));
      replace(body('decisions'), decisionsPanel(st.plan));
    }
    if (what.pool || what.machines) replace(body('nodes'), nodesPanel(st.machines, pl));
  };

  // The catalog entry (for the MIG geometry) is asked for as soon as the pool names its VM size.
  const results = await Promise.allSettled([loadPool().then(loadCatalog), loadPlan(), loadMachines()]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  if (st.plan && !st.catalog) await loadCatalog();
  draw({pool: true, plan: true, catalog: true, machines: true});
  ctx.ready('pool');

  let busy = false;
  ctx.every(async () => {
    if (busy) return;
    busy = true;
    try {
      const what = {};
      [what.pool, what.plan, what.machines] = await Promise.all([loadPool(), loadPlan(), loadMachines()]);
      what.catalog = await loadCatalog();
      if (what.pool || what.plan || what.machines || what.catalog) {
        draw(what);
        ctx.announce('The pool page was updated.');
      }
      replace(liveText, `Live · checked ${new Date().toLocaleTimeString()}`);
      liveText.parentElement.classList.remove('stale');
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(liveText, `Live updates paused: ${e.code || e.message}`);
      liveText.parentElement.classList.add('stale');
    } finally {
      busy = false;
    }
  });
  replace(liveText, `Live · checked ${new Date().toLocaleTimeString()}`);
}
