// mig.js - a GPU's MIG layout as SVG: the 8 memory slices in a row, each instance drawn over the
// slices it takes (from its start, as wide as its profile's memory slices in the server's catalog),
// labelled with its profile and coloured per AKS profile (app.css). A layout the server refused is
// drawn the same way, with what it could not place in a lane below, outlined in red.

import {h, s} from './dom.js';

export const SLICES = 8;
const W = 60; // one memory slice
const PAD = 2;
const BAR_Y = 4;
const BAR_H = 46;
const LANE_Y = 96;

let uid = 0;

function instanceBox(inst, x, y, height, extraClass) {
  const w = inst.memorySlices * W - 4;
  const cx = x + 2 + w / 2;
  const name = inst.profile || inst.aksProfile;
  // a one-slice box is too narrow for "1g.10gb" on one line: "1g" over "10gb"
  const [first, rest] = inst.memorySlices < 2 && name.includes('.') ? [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)]
    : [name, inst.aksProfile];
  const where = inst.start === undefined ? 'does not fit'
    : inst.memorySlices === 1 ? `memory slice ${inst.start}` : `memory slices ${inst.start}–${inst.start + inst.memorySlices - 1}`;
  return s('g', {class: ['mig-inst', 'mig-' + inst.aksProfile, extraClass],
    'data-profile': inst.profile, 'data-aks': inst.aksProfile,
    'data-start': inst.start === undefined ? null : inst.start, 'data-slices': inst.memorySlices},
  s('title', {}, `${name} (${inst.aksProfile}), ${where}`),
  s('rect', {x: x + 2, y, width: w, height, rx: 5}),
  s('text', {x: cx, y: y + height / 2 - 2, 'text-anchor': 'middle', class: 'mig-label'}, first),
  s('text', {x: cx, y: y + height / 2 + 13, 'text-anchor': 'middle', class: 'mig-sub'}, rest));
}

function describe(gpuIndex, instances, unplaced) {
  const parts = instances.map((i) => (i.memorySlices === 1 ? `${i.profile} on memory slice ${i.start}`
    : `${i.profile} on memory slices ${i.start}–${i.start + i.memorySlices - 1}`));
  const used = new Set();
  instances.forEach((i) => { for (let k = 0; k < i.memorySlices; k++) used.add(i.start + k); });
  const free = [...Array(SLICES).keys()].filter((k) => !used.has(k));
  let text = `GPU ${gpuIndex}: ${parts.join('; ') || 'no MIG instances'}; free memory slices: ${free.join(', ') || 'none'}.`;
  if (unplaced.length) text += ` Does not fit: ${unplaced.map((u) => u.profile || u.aksProfile).join(', ')}.`;
  return text;
}

// One GPU. instances: [{aksProfile, profile, start, memorySlices}]; unplaced: the same without start.
export function gpuLayout(gpuIndex, instances, unplaced = []) {
  const id = `mig-t${++uid}`;
  const height = unplaced.length ? LANE_Y + BAR_H + 4 : BAR_Y + BAR_H + 22;
  const svg = s('svg', {class: ['mig', unplaced.length ? 'mig-refused' : null], viewBox: `0 0 ${SLICES * W + 2 * PAD} ${height}`,
    role: 'img', 'aria-labelledby': id, 'data-gpu': gpuIndex},
  s('title', {id}, describe(gpuIndex, instances, unplaced)),
  [...Array(SLICES).keys()].map((k) => [
    s('rect', {class: 'mig-slice', x: PAD + k * W + 1, y: BAR_Y, width: W - 2, height: BAR_H, rx: 4}),
    s('text', {class: 'mig-slice-n', x: PAD + k * W + W / 2, y: BAR_Y + BAR_H + 15, 'text-anchor': 'middle'}, k),
  ]),
  instances.map((i) => instanceBox(i, PAD + i.start * W, BAR_Y, BAR_H)),
  unplaced.length ? s('text', {class: 'mig-lane-label', x: PAD, y: LANE_Y - 8}, 'Does not fit on this GPU:') : null,
  (() => { // the left-over instances side by side, squeezed when they add up to more than 8 slices
    let x = PAD;
    const total = unplaced.reduce((n, u) => n + u.memorySlices, 0);
    const scale = total > SLICES ? SLICES / total : 1;
    return unplaced.map((u) => {
      const g = instanceBox(u, 0, LANE_Y, BAR_H, 'mig-unplaced');
      g.setAttribute('transform', `translate(${x} 0) scale(${scale} 1)`);
      x += u.memorySlices * W * scale;
      return g;
    });
  })());
  return svg;
}

// Legend of the profiles a layout uses.
export function legend(instances) {
  const seen = new Map();
  for (const i of instances) if (!seen.has(i.aksProfile)) seen.set(i.aksProfile, i);
  return h('ul', {class: 'mig-legend', 'aria-label': 'MIG profiles'},
    [...seen.values()].sort((a, b) => a.memorySlices - b.memorySlices || a.aksProfile.localeCompare(b.aksProfile)).map((i) =>
      h('li', {}, h('span', {class: ['swatch', 'mig-' + i.aksProfile], 'aria-hidden': 'true'}),
        `${i.aksProfile} = ${i.profile} (${i.computeSlices ? i.computeSlices + ' compute, ' : ''}${i.memorySlices} memory slice${i.memorySlices > 1 ? 's' : ''})`)));
}

// The plan's instances (profile, id, start) joined with the catalog's geometry (by profile id).
export function planInstances(plan, catalog) {
  const byId = new Map(((catalog && catalog.properties && catalog.properties.mig && catalog.properties.mig.profiles) || [])
    .map((p) => [p.id, p]));
  const out = [];
  for (const i of (plan.migLayout && plan.migLayout.instances) || []) {
    const g = byId.get(i.id);
    if (!g) return null; // the catalog does not know it: say so rather than draw it wrong
    out.push({aksProfile: g.name, profile: i.profile || g.profile, start: i.start, memorySlices: g.memorySlices,
      computeSlices: g.computeSlices});
  }
  return out;
}

// Every GPU of the node (they all get the same layout).
export function layoutFigure(gpus, instances, unplaced = []) {
  const n = Math.max(1, gpus | 0);
  return h('div', {class: 'mig-figure'},
    h('div', {class: ['mig-grid', n > 1 ? 'mig-grid-multi' : null]},
      [...Array(n).keys()].map((g) => h('figure', {class: 'mig-gpu'},
        h('figcaption', {}, n > 1 ? `GPU ${g}` : 'GPU 0'), gpuLayout(g, instances, unplaced)))),
    legend([...instances, ...unplaced]));
}
