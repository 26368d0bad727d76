// addpool.js - the form that adds an agent pool. The VM size comes from the server's GPU catalog,
// MIG profiles are picked as blocks of memory slices and previewed on a GPU (the server places
// them: GET …/gpuVMSizes/{size}?migProfiles=…); the pool is created by the same PUT any client
// sends. The server decides: when it refuses, each violation (code, message) is shown next to the
// field its ARM target names, and all of them in a summary at the top.

import {h, replace, section, note, link} from './dom.js';
import {call, get, paths, vmSizeList, ApiError} from './api.js';
import {gpuLayout, legend} from './mig.js';

// ARM error target -> form field. The first match wins.
const TARGETS = [
  [/^(agentPoolName|name)$/i, 'name'],
  [/^properties\.vmSize$/i, 'vmSize'],
  [/^properties\.count$/i, 'count'],
  [/^properties\.(osSKU|osType)$/i, 'osSKU'],
  [/^properties\.orchestratorVersion$/i, 'orchestratorVersion'],
  [/^properties\.gpuProfile\.driver$/i, 'driver'],
  [/^properties\.gpuProfile\.nvidia\.managementMode$/i, 'managementMode'],
  [/^properties\.gpuProfile\.nvidia\.driverMode$/i, 'driverMode'],
  [/^properties\.gpuProfile\.nvidia\.migStrategy$/i, 'migStrategy'],
  [/^properties\.gpuProfile\.nvidia\.migProfiles(\[\d+\])?$/i, 'migProfiles'],
  [/^properties\.gpuInstanceProfile$/i, 'gpuInstanceProfile'],
  [/^properties\.gpuProfile\.nvidia(\.|$)/i, 'managementMode'],
  [/^properties\.gpuProfile(\.|$)/i, 'driver'],
  [/^properties\.nodeTaints/i, 'taints'],
  [/^properties\.nodeLabels/i, 'labels'],
  [/^tags(\.|\[|$)/i, 'tags'],
];
export function fieldOfTarget(target, code) {
  if (code === 'PreconditionFailed') return 'name'; // If-None-Match: * and the pool exists
  for (const [re, f] of TARGETS) if (target && re.test(target)) return f;
  return null;
}

const ENUMS = {
  driver: ['Install', 'None'],
  managementMode: ['Managed', 'Unmanaged'],
  driverMode: ['DevicePlugin', 'DRA'],
  migStrategy: ['None', 'Single', 'Mixed'],
  gpuInstanceProfile: ['MIG1g', 'MIG2g', 'MIG3g', 'MIG4g', 'MIG7g'],
};

// "a=b, c=d" -> {a: 'b', c: 'd'}; null when it is not that shape.
function pairs(text) {
  const out = {};
  for (const part of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) return null;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export async function addPoolPage(ctx) {
  const {sub, rg, cluster} = ctx.params;
  ctx.crumbs([{text: sub, href: link.subscription(sub)}, {text: `${rg} / ${cluster}`, href: link.cluster(sub, rg, cluster)},
    {text: 'Add a pool'}]);
  const sizes = await vmSizeList(sub);
  const F = {}; // field key -> {wrap, control, error}
  const field = (key, label, control, hint) => {
    control.id = 'f-' + key;
    const err = h('p', {class: 'field-error', id: 'err-' + key, hidden: true});
    const hintEl = hint ? h('p', {class: 'hint', id: 'hint-' + key}, hint) : null;
    control.setAttribute('aria-describedby', [hintEl ? 'hint-' + key : null, 'err-' + key].filter(Boolean).join(' '));
    const wrap = h('div', {class: 'field', id: 'field-' + key}, h('label', {for: control.id}, label), control, hintEl, err);
    F[key] = {wrap, control, error: err};
    return wrap;
  };
  const select = (key, options, def = '(default)') =>
    h('select', {name: key}, h('option', {value: ''}, def), options.map((o) => h('option', {value: o}, o)));

  // ---- VM size, grouped by GPU model --------------------------------------------------------------
  const byModel = new Map();
  for (const s of sizes) {
    const m = s.properties.gpu.model;
    if (!byModel.has(m)) byModel.set(m, []);
    byModel.get(m).push(s);
  }
  const sizeSel = h('select', {name: 'vmSize', required: true},
    h('option', {value: ''}, 'Choose a VM size…'),
    [...byModel.entries()].map(([model, list]) => h('optgroup', {label: model},
      list.map((s) => h('option', {value: s.name}, `${s.name} — ${s.properties.gpu.count} × ${model}${s.properties.gpu.migCapable ? ', MIG' : ''}`)))));
  const sizeInfo = h('p', {class: 'hint', id: 'size-info'});
  const osSel = h('select', {name: 'osSKU'}, h('option', {value: ''}, '(default)'));

  // ---- MIG: a palette of profiles, the chosen instances, and the server's placement ----------------
  const chosen = [];
  const palette = h('div', {class: 'mig-palette', role: 'group', 'aria-label': 'Add a MIG instance'});
  const chips = h('ul', {class: 'mig-chosen', 'aria-label': 'MIG instances of one GPU'});
  const preview = h('div', {class: 'mig-preview'});
  const previewStatus = h('p', {class: 'hint', 'aria-live': 'polite', id: 'mig-status'});
  const migErr = h('p', {class: 'field-error', id: 'err-migProfiles', hidden: true});
  const migBox = h('fieldset', {class: 'field field-wide', id: 'field-migProfiles', tabindex: '-1', 'aria-describedby': 'mig-status err-migProfiles'},
    h('legend', {}, 'MIG profiles (the instances of each GPU)'), palette,
    h('p', {class: 'hint'}, 'Click a profile to add an instance; its blocks are the memory slices it takes. Click an instance below to remove it.'),
    chips, preview, previewStatus, migErr);
  F.migProfiles = {wrap: migBox, control: migBox, error: migErr};
  const migSection = h('div', {class: 'mig-section'});

  const current = () => sizes.find((s) => s.name === sizeSel.value);
  let previewSeq = 0;
  const refreshPreview = async () => {
    const s = current();
    const seq = ++previewSeq;
    replace(chips, chosen.map((p, i) => h('li', {}, h('button', {type: 'button', class: ['chip-remove', 'mig-' + p],
      'aria-label': `Remove ${p} (instance ${i + 1})`, onclick: () => { chosen.splice(i, 1); refreshPreview(); }}, p, h('span', {'aria-hidden': 'true'}, ' ×')))));
    const gip = F.gpuInstanceProfile.control.value;
    if (!s || !s.properties.mig) { replace(preview); replace(previewStatus); return; }
    let list = chosen;
    if (!list.length && gip) {
      const g = s.properties.mig.profiles.find((p) => p.name === gip);
      list = g ? Array(g.maxInstances).fill(gip) : [];
    }
    if (!list.length) {
      replace(preview, gpuLayout(0, []));
      replace(previewStatus, 'No MIG instances: each GPU is given whole.');
      return;
    }
    try {
      const r = await get(paths.vmSize(sub, s.name), {query: {migProfiles: list.join(',')}});
      if (seq !== previewSeq) return;
      const lay = r.json.properties.mig.layout;
      replace(preview, gpuLayout(0, lay.instances, lay.unplaced), legend([...lay.instances, ...lay.unplaced]));
      replace(previewStatus, lay.fits ? `Fits: ${lay.instances.length} instance${lay.instances.length === 1 ? '' : 's'} on each GPU${gip && !chosen.length ? ` (${gip} as many times as fits)` : ''}.`
        : `Does not fit on one GPU: ${lay.unplaced.map((u) => u.aksProfile).join(', ')} left over.`);
    } catch (e) {
      if (seq === previewSeq) replace(previewStatus, `No preview: ${e.code}: ${e.message}`);
    }
  };
  const onSize = () => {
    const s = current();
    replace(sizeInfo, s ? `${s.properties.gpu.count} × ${s.properties.gpu.vendor} ${s.properties.gpu.model}` +
      (s.properties.gpu.memoryMiB ? ` (${Math.round(s.properties.gpu.memoryMiB / 1024)} GiB each)` : '') +
      `, ${s.properties.gpu.migCapable ? 'MIG-capable' : 'no MIG'}; OS: ${(s.properties.osSKUs || []).join(', ')}.` +
      (s.properties.note ? ` ${s.properties.note}.` : '') : '');
    const keep = osSel.value;
    replace(osSel, h('option', {value: ''}, '(default)'), ((s && s.properties.osSKUs) || []).map((o) => h('option', {value: o}, o)));
    osSel.value = (s && (s.properties.osSKUs || []).includes(keep)) ? keep : '';
    if (s && s.properties.mig) {
      replace(palette, s.properties.mig.profiles.map((p) => h('button', {type: 'button', class: ['mig-pick', 'mig-' + p.name],
        'data-aks': p.name, 'aria-label': `Add ${p.name} (${p.profile}, ${p.memorySlices} memory slice${p.memorySlices > 1 ? 's' : ''})`,
        onclick: () => { chosen.push(p.name); refreshPreview(); }},
      h('span', {class: 'pick-name'}, p.name), h('span', {class: 'pick-prof'}, p.profile),
      h('span', {class: 'pick-slices', 'aria-hidden': 'true'}, [...Array(8).keys()].map((k) => h('span', {class: k < p.memorySlices ? 'on' : 'off'}))))));
      replace(migSection, h('div', {class: 'field-row'}, F.migStrategy.wrap, F.gpuInstanceProfile.wrap), migBox);
    } else {
      chosen.length = 0;
      replace(migSection, note(s ? `${s.name} has no MIG-capable GPU: MIG settings do not apply.` : 'Choose a VM size first.', 'info'));
    }
    refreshPreview();
  };
  sizeSel.addEventListener('change', onSize);

  const summary = h('div', {class: 'form-summary', id: 'form-summary', tabindex: '-1', hidden: true});
  const submit = h('button', {type: 'submit', class: 'button primary'}, 'Create pool');
  const form = h('form', {class: 'pool-form', novalidate: true},
    summary,
    section('Basics', 'sec-basics', h('div', {class: 'field-grid'},
      field('name', 'Pool name', h('input', {name: 'name', required: true, autocomplete: 'off', maxlength: 12, spellcheck: 'false'}),
        '1 to 12 lowercase letters and digits, starting with a letter.'),
      field('count', 'Node count', h('input', {name: 'count', type: 'number', min: 0, max: 1000, value: 1, inputmode: 'numeric'})),
      h('div', {class: 'field-wide'}, field('vmSize', 'VM size', sizeSel), sizeInfo),
      field('osSKU', 'OS SKU', osSel),
      field('orchestratorVersion', 'Kubernetes version', h('input', {name: 'orchestratorVersion', autocomplete: 'off', placeholder: 'the cluster\'s'})))),
    section('GPU', 'sec-gpu', h('div', {class: 'field-grid'},
      field('driver', 'GPU driver (gpuProfile.driver)', select('driver', ENUMS.driver)),
      field('managementMode', 'Management mode (nvidia.managementMode)', select('managementMode', ENUMS.managementMode)),
      field('driverMode', 'Driver mode (nvidia.driverMode)', select('driverMode', ENUMS.driverMode)))),
    section('MIG', 'sec-mig', migSection),
    section('Scheduling and tags', 'sec-meta', h('div', {class: 'field-grid'},
      field('taints', 'Node taints', h('input', {name: 'taints', autocomplete: 'off', placeholder: 'sku=gpu:NoSchedule'}), 'Comma-separated.'),
      field('labels', 'Node labels', h('input', {name: 'labels', autocomplete: 'off', placeholder: 'team=ml'}), 'key=value, comma-separated.'),
      field('tags', 'Tags', h('input', {name: 'tags', autocomplete: 'off', placeholder: 'env=dev'}), 'key=value, comma-separated.'))),
    h('div', {class: 'form-actions'}, submit, h('a', {class: 'button', href: link.cluster(sub, rg, cluster)}, 'Cancel')));
  // fields placed by onSize()
  field('migStrategy', 'MIG strategy (nvidia.migStrategy)', select('migStrategy', ENUMS.migStrategy));
  field('gpuInstanceProfile', 'Whole-GPU profile (gpuInstanceProfile)', select('gpuInstanceProfile', ENUMS.gpuInstanceProfile, '(none)'));
  F.gpuInstanceProfile.control.addEventListener('change', refreshPreview);

  const clearErrors = () => {
    summary.hidden = true;
    replace(summary);
    for (const f of Object.values(F)) {
      f.error.hidden = true;
      replace(f.error);
      f.control.removeAttribute('aria-invalid');
      f.wrap.classList.remove('invalid');
    }
  };
  const showErrors = (title, problems) => { // problems: [{code, message, target}]
    const listed = [];
    for (const p of problems) {
      const key = fieldOfTarget(p.target, p.code);
      const f = key && F[key] && F[key].wrap.isConnected ? F[key] : null;
      if (f) {
        f.error.hidden = false;
        f.error.append(h('span', {class: 'err-line'}, h('strong', {class: 'err-code'}, p.code), ' ', p.message,
          p.target ? [' ', h('code', {class: 'err-target'}, p.target)] : null));
        f.control.setAttribute('aria-invalid', 'true');
        f.wrap.classList.add('invalid');
      }
      listed.push(h('li', {}, h('strong', {}, p.code), p.target ? [' (', h('code', {}, p.target), ')'] : null, ': ', p.message,
        f ? [' ', h('button', {type: 'button', class: 'link-button err-jump', onclick: () => f.control.focus()}, 'Go to the field')] : null));
    }
    replace(summary, h('h2', {}, title), h('ul', {}, listed));
    summary.hidden = false;
    summary.setAttribute('role', 'alert');
    summary.focus();
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    const v = (k) => F[k].control.value.trim();
    const local = [];
    if (!v('name')) local.push({code: 'Required', message: 'Enter a pool name.', target: 'agentPoolName'});
    if (!v('vmSize')) local.push({code: 'Required', message: 'Choose a VM size.', target: 'properties.vmSize'});
    const labels = pairs(v('labels')), tags = pairs(v('tags'));
    if (!labels) local.push({code: 'Format', message: 'Write node labels as key=value, separated by commas.', target: 'properties.nodeLabels'});
    if (!tags) local.push({code: 'Format', message: 'Write tags as key=value, separated by commas.', target: 'tags'});
    if (local.length) { showErrors('Check these fields', local); return; }
    const props = {vmSize: v('vmSize'), count: v('count') === '' ? undefined : Number(v('count'))};
    if (v('osSKU')) props.osSKU = v('osSKU');
    if (v('orchestratorVersion')) props.orchestratorVersion = v('orchestratorVersion');
    const gp = {}, nv = {};
    if (v('driver')) gp.driver = v('driver');
    for (const k of ['managementMode', 'driverMode']) if (v(k)) nv[k] = v(k);
    if (F.migStrategy.wrap.isConnected && v('migStrategy')) nv.migStrategy = v('migStrategy');
    if (migBox.isConnected && chosen.length) nv.migProfiles = [...chosen];
    if (F.gpuInstanceProfile.wrap.isConnected && v('gpuInstanceProfile')) props.gpuInstanceProfile = v('gpuInstanceProfile');
    if (Object.keys(nv).length) gp.nvidia = nv;
    if (Object.keys(gp).length) props.gpuProfile = gp;
    const taints = v('taints').split(',').map((x) => x.trim()).filter(Boolean);
    if (taints.length) props.nodeTaints = taints;
    if (Object.keys(labels).length) props.nodeLabels = labels;
    const body = {properties: props};
    if (Object.keys(tags).length) body.tags = tags;
    submit.disabled = true;
    try {
      await call('PUT', paths.pool(sub, rg, cluster, v('name')), {body, headers: {'If-None-Match': '*'}});
      location.hash = link.pool(sub, rg, cluster, v('name'));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      showErrors(`The server refused the pool (HTTP ${e.status})`, e.details);
    } finally {
      submit.disabled = false;
    }
  });

  replace(ctx.main,
    h('div', {class: 'page-head'}, h('h1', {id: 'page-title', tabindex: '-1'}, h('span', {class: 'kind'}, `Managed cluster ${cluster}`), 'Add an agent pool')),
    form);
  onSize();
  ctx.ready('addpool');
}
