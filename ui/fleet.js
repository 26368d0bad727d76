// fleet.js - the nodes and rollout panels of a pool page. They read the shapes of the fleet API:
//   GET …/agentPools/{p}/machines: {value: [{name, properties: {status: {state, gpus: [{index, health}],
//       lastSeen, appliedGeneration, targetGeneration}}}], nextLink}
//   pool properties.status.nodes: {total, conformant, applying, drifted, unhealthy, notReporting, missing}
//   pool properties.status.rollout: {state, fromGeneration, toGeneration, class, updated, pending,
//       failed: [names], reason}
// A server without them (the machines route answers 404 NotFound, the pool has no status) gets a
// plain sentence saying so instead of an empty table.

import {h, table, badge, stateBadge, note, ago, kv} from './dom.js';

const count = (x) => (Array.isArray(x) ? x.length : Number.isFinite(Number(x)) ? Number(x) : 0);
const statusOf = (m) => (m && m.properties && m.properties.status) || (m && m.status) || {};
const healthOf = (g) => (g && typeof g.health === 'object' && g.health ? g.health.state : g && g.health) || 'Unknown';

function gpuHealth(gpus) {
  if (!Array.isArray(gpus) || !gpus.length) return h('span', {class: 'muted'}, 'no GPUs reported');
  const healthy = gpus.filter((g) => /^healthy$/i.test(healthOf(g))).length;
  return h('span', {class: 'gpu-health'},
    h('span', {class: 'pips', 'aria-hidden': 'true'}, gpus.map((g, i) => {
      const st = healthOf(g);
      const kind = /^healthy$/i.test(st) ? 'ok' : /^degraded$/i.test(st) ? 'warn' : 'bad';
      return h('span', {class: ['pip', 'pip-' + kind], title: `GPU ${g.index ?? i}: ${st}`});
    })),
    ` ${healthy}/${gpus.length} healthy`,
    healthy < gpus.length ? h('span', {class: 'sr-only'}, ': ' + gpus.filter((g) => !/^healthy$/i.test(healthOf(g)))
      .map((g, i) => `GPU ${g.index ?? i} ${healthOf(g)}`).join(', ')) : null);
}

const SUMMARY_KEYS = [['total', 'Total'], ['conformant', 'Conformant'], ['applying', 'Applying'], ['drifted', 'Drifted'],
  ['unhealthy', 'Unhealthy'], ['notReporting', 'Not reporting'], ['missing', 'Missing']];

function nodesSummary(nodes) {
  if (!nodes || typeof nodes !== 'object') return null;
  return h('ul', {class: 'stat-chips', 'aria-label': 'Nodes by state'},
    SUMMARY_KEYS.filter(([k]) => k in nodes).map(([k, label]) =>
      h('li', {class: ['chip', 'chip-' + k]}, h('span', {class: 'chip-n'}, String(count(nodes[k]))), ' ', label)));
}

// machines: {unavailable: true} | {error: ApiError} | {items: [...], next}
export function nodesPanel(machines, pool) {
  const nodes = pool && pool.properties && pool.properties.status && pool.properties.status.nodes;
  if (!machines || machines.unavailable) {
    return [nodesSummary(nodes), note('This gpupoold does not report the pool\'s machines yet: the machines API ' +
      '(GET …/agentPools/{pool}/machines) answers 404. Nodes appear here once node agents report to a gpupoold that has it.', 'info')];
  }
  if (machines.error) return note(`The machines could not be read: ${machines.error.code}: ${machines.error.message}`, 'error');
  const items = machines.items || [];
  if (!items.length) return [nodesSummary(nodes), note('No machine has reported for this pool yet.', 'info')];
  return [
    nodesSummary(nodes),
    table('Machines of the pool', [
      {title: 'Machine', cell: (m) => m.name},
      {title: 'State', cell: (m) => stateBadge(statusOf(m).state)},
      {title: 'GPUs', cell: (m) => gpuHealth(statusOf(m).gpus)},
      {title: 'Applied / target', cell: (m) => `${statusOf(m).appliedGeneration ?? '—'} / ${statusOf(m).targetGeneration ?? '—'}`},
      {title: 'Last seen', cell: (m) => ago(statusOf(m).lastSeen)},
    ], items, {class: 'machines', rowAttrs: (m) => ({'data-machine': m.name})}),
    machines.next ? note(`Showing the first ${items.length} machines.`, 'info') : null,
  ];
}

export function rolloutPanel(pool) {
  const status = pool && pool.properties && pool.properties.status;
  const ro = status && status.rollout;
  if (!ro || typeof ro !== 'object') {
    return note('This gpupoold does not report rollouts yet (the pool has no properties.status.rollout). ' +
      'Once it does, this panel shows each change moving through the pool: from → to, its disruption class, ' +
      'progress, and the machine that halted it.', 'info');
  }
  if (ro.state === 'Idle') {
    return note('No change has rolled out to this pool\'s machines yet. When one does, this panel shows it moving ' +
      'through the pool: from → to, its disruption class, progress, and the machine that halted it.', 'info');
  }
  // pending counts every machine not yet Conformant at the new generation, the failed ones among them
  const updated = count(ro.updated), pending = count(ro.pending);
  const failed = Array.isArray(ro.failed) ? ro.failed : [];
  const total = updated + pending;
  const halted = ro.state === 'Halted';
  return h('div', {class: 'rollout', 'data-state': ro.state || ''},
    h('p', {class: 'rollout-head'}, stateBadge(ro.state),
      h('span', {class: 'rollout-gen'}, ` generation ${ro.fromGeneration ?? '—'} → ${ro.toGeneration ?? '—'} `),
      ro.class ? badge(`class ${ro.class}`, 'class') : null),
    total ? h('div', {class: 'progress-row'},
      h('progress', {max: total, value: updated, 'aria-label': 'Machines updated'}),
      h('span', {}, `${updated} of ${total} updated · ${Math.max(0, pending - failed.length)} pending · ${failed.length} failed`)) : null,
    failed.length ? kv([[halted ? 'Halted by' : 'Failed', h('span', {class: 'halted-by'}, failed.join(', '))]]) : null,
    ro.reason ? kv([['Reason', ro.reason]]) : null);
}
