// cluster.js - the subscription page (its clusters, from the subscription-level list, and the
// preview features) and the cluster page (its pools). A token that may read only part of a
// subscription sees only that part: the lists are filtered by the server.

import {h, replace, table, kv, stateBadge, section, note, link} from './dom.js';
import {get, listPage, paths, vmSizeList, FEATURES_API_VERSION} from './api.js';

const MAX_PAGES = 20;

async function allPages(path, signal) {
  let {items, next} = await listPage(path, {signal});
  for (let i = 1; next && i < MAX_PAGES; i++) {
    const r = await listPage(next, {signal});
    items = items.concat(r.items);
    next = r.next;
  }
  return {items, more: !!next};
}

const rgOf = (c) => (/\/resourceGroups\/([^/]+)\//i.exec(c.id || '') || [])[1] || '';
const clusterHref = (sub, c) => (rgOf(c) ? link.cluster(sub, rgOf(c), c.name) : null);

export async function subscriptionPage(ctx) {
  const {sub} = ctx.params;
  ctx.crumbs([{text: sub}]);
  const clusters = h('div', {class: 'panel-body'});
  const features = h('div', {class: 'panel-body'});
  replace(ctx.main,
    h('div', {class: 'page-head'}, h('h1', {id: 'page-title', tabindex: '-1'}, h('span', {class: 'kind'}, 'Subscription '), h('code', {}, sub))),
    section('Managed clusters', 'panel-clusters', clusters),
    section('Preview features', 'panel-features', features));
  const [list, feats] = await Promise.allSettled([
    allPages(paths.clusters(sub), ctx.signal),
    get(paths.features(sub), {apiVersion: FEATURES_API_VERSION, signal: ctx.signal}),
  ]);
  if (list.status === 'rejected') throw list.reason;
  const items = list.value.items;
  replace(clusters, items.length ? table('Managed clusters of the subscription', [
    {title: 'Cluster', cell: (c) => { const href = clusterHref(sub, c); return href ? h('a', {href}, c.name) : c.name; }},
    {title: 'Resource group', cell: (c) => rgOf(c)},
    {title: 'Location', cell: (c) => c.location || '—'},
    {title: 'Kubernetes', cell: (c) => (c.properties && (c.properties.currentKubernetesVersion || c.properties.kubernetesVersion)) || '—'},
    {title: 'Pools', cell: (c) => String(((c.properties && c.properties.agentPoolProfiles) || []).length), class: 'num'},
    {title: 'GPU default', cell: (c) => {
      const nv = c.properties && c.properties.gpuProfile && c.properties.gpuProfile.nvidia;
      return nv && nv.managementMode ? nv.managementMode : h('span', {class: 'muted'}, 'none');
    }},
    {title: 'State', cell: (c) => stateBadge(c.properties && c.properties.provisioningState)},
  ], items, {class: 'clusters'}) : note('No managed cluster in this subscription that you may read. Create one with ' +
    '`gpupool cluster create -g demo -n gpu` (or PUT …/managedClusters/{name}).', 'info'),
  list.value.more ? note('Only the first pages are shown.', 'info') : null);

  if (feats.status === 'fulfilled') {
    const v = (feats.value.json && feats.value.json.value) || [];
    replace(features, v.length ? kv(v.map((f) => [f.name, stateBadge(f.properties && f.properties.state)]))
      : note('No preview feature is registered. Pools that declare gpuProfile.nvidia settings in the preview phase ' +
        'need ManagedGPU: `gpupool feature register -n ManagedGPU`.', 'info'));
  } else {
    replace(features, note(`The features could not be read: ${feats.reason.code || feats.reason.message}`, 'info'));
  }
  ctx.ready('subscription');
}

const SHOW = 200;

export async function clusterPage(ctx) {
  const {sub, rg, cluster} = ctx.params;
  ctx.crumbs([{text: sub, href: link.subscription(sub)}, {text: `${rg} / ${cluster}`}]);
  const info = h('div', {class: 'panel-body'});
  const poolsBody = h('div', {class: 'panel-body'});
  replace(ctx.main,
    h('div', {class: 'page-head'},
      h('h1', {id: 'page-title', tabindex: '-1'}, h('span', {class: 'kind'}, 'Managed cluster '), cluster),
      h('a', {class: 'button primary', href: link.addPool(sub, rg, cluster)}, 'Add a pool')),
    section('Cluster', 'panel-cluster', info),
    section('Agent pools', 'panel-pools', poolsBody));

  // The cluster carries every pool's profile; a caller who may read only some pools cannot read the
  // cluster and gets the (filtered) pool list instead.
  let pools, clusterObj = null, more = false;
  try {
    clusterObj = (await get(paths.cluster(sub, rg, cluster), {signal: ctx.signal})).json;
    pools = (clusterObj.properties && clusterObj.properties.agentPoolProfiles) || [];
  } catch (e) {
    if (e.status !== 403) throw e;
    const r = await allPages(paths.pools(sub, rg, cluster), ctx.signal);
    pools = r.items.map((p) => ({name: p.name, ...p.properties}));
    more = r.more;
  }
  const catalog = new Map(((await vmSizeList(sub).catch(() => [])) || []).map((s) => [s.name.toLowerCase(), s]));
  const cp = (clusterObj && clusterObj.properties) || {};
  replace(info, clusterObj ? kv([
    ['Resource group', rg],
    ['Location', clusterObj.location || '—'],
    ['Kubernetes', cp.currentKubernetesVersion || cp.kubernetesVersion || '—'],
    ['GPU management default', (cp.gpuProfile && cp.gpuProfile.nvidia && cp.gpuProfile.nvidia.managementMode) || 'none declared'],
    ['State', stateBadge(cp.provisioningState)],
  ], 'cluster-info') : note('Your token may read some pools of this cluster but not the cluster itself.', 'info'));

  const gpuOf = (p) => {
    const s = catalog.get(String(p.vmSize || '').toLowerCase());
    return s ? `${s.properties.gpu.count} × ${s.properties.gpu.model}` : h('span', {class: 'muted'}, 'no GPU');
  };
  const mig = (p) => {
    const nv = (p.gpuProfile && p.gpuProfile.nvidia) || {};
    if (Array.isArray(nv.migProfiles) && nv.migProfiles.length) return nv.migProfiles.join(', ');
    return p.gpuInstanceProfile || h('span', {class: 'muted'}, '—');
  };
  const mode = (p) => {
    const nv = (p.gpuProfile && p.gpuProfile.nvidia) || {};
    return nv.managementMode || nv.currentManagementMode || h('span', {class: 'muted'}, 'default');
  };
  const filter = h('input', {type: 'search', id: 'pool-filter', placeholder: 'name, VM size, GPU…', autocomplete: 'off'});
  const count = h('p', {class: 'muted', id: 'pool-count', 'aria-live': 'polite'});
  const tableBox = h('div');
  let showAll = false;
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = q ? pools.filter((p) => [p.name, p.vmSize, (catalog.get(String(p.vmSize || '').toLowerCase()) || {name: ''}).properties?.gpu?.model]
      .some((x) => String(x || '').toLowerCase().includes(q))) : pools;
    const shown = showAll ? rows : rows.slice(0, SHOW);
    replace(count, `${rows.length} of ${pools.length} pool${pools.length === 1 ? '' : 's'}${shown.length < rows.length ? `, first ${shown.length} shown` : ''}`);
    replace(tableBox, shown.length ? table('Agent pools of the cluster', [
      {title: 'Pool', cell: (p) => h('a', {href: link.pool(sub, rg, cluster, p.name)}, p.name)},
      {title: 'VM size', cell: (p) => p.vmSize || '—'},
      {title: 'GPU', cell: gpuOf},
      {title: 'Nodes', cell: (p) => String(p.count ?? '—'), class: 'num'},
      {title: 'Management', cell: mode},
      {title: 'MIG', cell: mig},
      {title: 'State', cell: (p) => stateBadge(p.provisioningState)},
    ], shown, {class: 'pools'}) : note(pools.length ? 'No pool matches.' : 'No agent pools yet.', 'info'),
    shown.length < rows.length ? h('button', {type: 'button', class: 'button', onclick: () => { showAll = true; render(); }},
      `Show all ${rows.length}`) : null);
  };
  filter.addEventListener('input', render);
  replace(poolsBody, h('div', {class: 'toolbar'}, h('label', {for: 'pool-filter'}, 'Filter pools'), filter, count),
    tableBox, more ? note('Only the first pages are shown.', 'info') : null);
  render();
  ctx.ready('cluster');
}
