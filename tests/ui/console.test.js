'use strict';
// console.test.js - the web console in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download: it is pointed at /usr/bin/chromium). Starts gpupoold itself
// (a fresh SQLite store, a free loopback port), creates pools through the ARM API, opens the
// console's pages and checks the DOM, the headers, the XSS case, live updates, the form's refusals,
// keyboard use, labels and contrast, the 390 px layout, and, with auth on, the token handling. It
// measures the pool page's first render and transfer size in a 1,000-pool cluster, and saves
// screenshots under --out (docs/ gets the main ones with --docs DIR).
//
// Usage: node console.test.js --gpupoold build/gpupoold --out build/ui-test [--bench] [--docs docs]
// Exit status: 0 when every check passed.

const {chromium} = require('playwright-core');
const {spawn} = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def; };
const GPUPOOLD = path.resolve(opt('--gpupoold', 'build/gpupoold'));
const OUT = path.resolve(opt('--out', 'build/ui-test'));
const DOCS = opt('--docs', null);
const BENCH = argv.includes('--bench');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SUB = '00000000-0000-0000-0000-000000000000';
const V = '2026-10-02-preview';
const XSS = '<img src=x onerror=alert(1)>';
// Generous: the suite also runs under ASan on a loaded 2-core CI machine. The real figures are in
// bench/RESULTS.md (make bench-ui).
const FIRST_RENDER_LIMIT_MS = 1500;
const TRANSFER_LIMIT = 150 * 1024;

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; return true; }
  failed++;
  console.error(`FAIL ${what}${detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : ''}`);
  return false;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
fs.mkdirSync(OUT, {recursive: true});
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gpupool-ui-'));

// ---- gpupoold --------------------------------------------------------------------------------------

const servers = [];
async function startServer(extra = []) {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'srv-'));
  const proc = spawn(GPUPOOLD, ['--listen', '127.0.0.1:0', '--db', `sqlite:${dir}/db`, '--retry-after', '0', ...extra],
    {stdio: ['ignore', 'pipe', 'pipe']});
  const srv = {proc, dir, log: '', url: null};
  servers.push(srv);
  proc.stderr.on('data', (d) => { srv.log += d; });
  srv.exited = new Promise((r) => proc.on('exit', (code, sig) => r({code, sig})));
  srv.url = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`gpupoold did not start: ${srv.log}`)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /gpupoold listening on (\S+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    proc.on('exit', () => reject(new Error(`gpupoold exited: ${srv.log}`)));
  });
  return srv;
}
async function stopServer(srv) {
  srv.proc.kill('SIGTERM');
  const {code, sig} = await srv.exited;
  servers.splice(servers.indexOf(srv), 1);
  check(code === 0, 'gpupoold exits 0 on SIGTERM (no leak or sanitizer report)', {code, sig, log: srv.log.slice(-2000)});
}

async function api(srv, method, p, body, token, headers = {}) {
  const u = new URL(p, srv.url);
  if (!u.searchParams.has('api-version')) u.searchParams.set('api-version', V);
  const h = {...headers};
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  const res = await fetch(u, {method, headers: h, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, headers: res.headers, json, text};
}
async function must(srv, method, p, body, token, want) {
  const r = await api(srv, method, p, body, token);
  if (!want.includes(r.status)) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r;
}
const clusterPath = (rg, c) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${c}`;
async function waitSucceeded(srv, p, token) {
  for (let i = 0; i < 400; i++) {
    const r = await api(srv, 'GET', p, undefined, token);
    const st = r.json && r.json.properties && r.json.properties.provisioningState;
    if (st === 'Succeeded') return r.json;
    if (st === 'Failed') throw new Error(`${p} failed`);
    await sleep(50);
  }
  throw new Error(`${p} did not succeed`);
}

const POOLS = {
  t4: {tags: {team: 'ml', note: XSS}, properties: {vmSize: 'Standard_NC4as_T4_v3', count: 2,
    nodeTaints: ['sku=gpu:NoSchedule'], gpuProfile: {driver: 'Install', nvidia: {managementMode: 'Unmanaged'}}}},
  a100: {properties: {vmSize: 'Standard_NC24ads_A100_v4', count: 1, nodeTaints: ['sku=gpu:NoSchedule'],
    gpuProfile: {nvidia: {managementMode: 'Managed', migStrategy: 'Mixed', migProfiles: ['MIG3g', 'MIG2g', 'MIG1g', 'MIG1g']}}}},
  h100: {properties: {vmSize: 'Standard_ND96isr_H100_v5', count: 2, gpuInstanceProfile: 'MIG1g', nodeTaints: ['sku=gpu:NoSchedule'],
    gpuProfile: {nvidia: {managementMode: 'Managed'}}}},
};

async function seed(srv) {
  await must(srv, 'POST', `/subscriptions/${SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU/register?api-version=2021-07-01`, undefined, null, [200]);
  const c = clusterPath('demo', 'gpu');
  await must(srv, 'PUT', c, {location: 'eastus', properties: {kubernetesVersion: '1.35'}}, null, [200, 201]);
  await waitSucceeded(srv, c);
  for (const [name, body] of Object.entries(POOLS)) await must(srv, 'PUT', `${c}/agentPools/${name}`, body, null, [201]);
  for (const name of Object.keys(POOLS)) await waitSucceeded(srv, `${c}/agentPools/${name}`);
  // a 1,000-pool cluster (ten cluster PUTs of 100 pools: the API's limit per PUT), pools of the three kinds
  const big = clusterPath('demo', 'big');
  const kinds = Object.values(POOLS).map((b) => ({...b.properties}));
  for (let b = 0; b < 10; b++) {
    const profiles = [];
    for (let i = b * 100; i < (b + 1) * 100; i++) profiles.push({name: `p${String(i).padStart(4, '0')}`, ...kinds[i % 3]});
    await must(srv, 'PUT', big, {location: 'eastus', properties: {kubernetesVersion: '1.35', agentPoolProfiles: profiles}}, null, [200, 201]);
    await waitSucceeded(srv, big);
  }
}

// ---- the browser -----------------------------------------------------------------------------------

let context;
async function openPage(viewport = {width: 1280, height: 900}) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    // failed fetches the console expects (404 machines, 400/401 refusals) are logged by chromium as errors
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (304|4\d\d)/.test(t)) page.problems.push(`console: ${t}`);
  });
  page.on('dialog', (d) => { page.problems.push(`dialog opened: ${d.message()}`); d.dismiss().catch(() => {}); });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}
async function clean(page, what) {
  const csp = await page.evaluate(() => window.__csp).catch(() => []);
  check(csp.length === 0, `${what}: no Content-Security-Policy violation`, csp);
  check(page.problems.length === 0, `${what}: no script error, console error or dialog`, page.problems);
}
const ready = (page, name, timeout = 15000) => page.locator(`html[data-ready="${name}"]`).waitFor({state: 'attached', timeout});
const hashFor = (rg, c, p) => `#/subscriptions/${SUB}/resourceGroups/${rg}/clusters/${c}${p ? `/pools/${p}` : ''}`;
async function shot(page, name, fullPage = true) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({path: file, fullPage});
  return file;
}
// The pictures the README shows (docs/console-*.png with --docs): smaller, one subject each.
const DOC_SHOTS = [];
async function docShot(page, name, what) {
  const file = path.join(OUT, `docs-${name}.png`);
  if (typeof what === 'string') await page.locator(what).screenshot({path: file});
  else await page.screenshot({path: file, clip: what, fullPage: true});
  DOC_SHOTS.push(name);
}

// ---- the checks ------------------------------------------------------------------------------------

async function checkHeaders(srv) {
  const files = {'/ui/': 'text/html; charset=utf-8', '/ui/app.js': 'text/javascript; charset=utf-8',
    '/ui/app.css': 'text/css; charset=utf-8', '/ui/favicon.svg': 'image/svg+xml'};
  for (const [p, type] of Object.entries(files)) {
    const r = await fetch(new URL(p, srv.url));
    const csp = r.headers.get('content-security-policy') || '';
    check(r.status === 200 && r.headers.get('content-type') === type, `${p}: 200 ${type}`, `${r.status} ${r.headers.get('content-type')}`);
    check(/(^|; )default-src '(none|self)'/.test(csp) && /script-src 'self'(;|$)/.test(csp) && /style-src 'self'(;|$)/.test(csp) &&
      /frame-ancestors 'none'/.test(csp) && /connect-src 'self'/.test(csp) && !/unsafe-/.test(csp) && /require-trusted-types-for 'script'/.test(csp),
    `${p}: strict Content-Security-Policy`, csp);
    check(r.headers.get('x-frame-options') === 'DENY' && r.headers.get('x-content-type-options') === 'nosniff',
      `${p}: X-Frame-Options DENY, nosniff`);
    const etag = r.headers.get('etag');
    const again = await fetch(new URL(p, srv.url), {headers: {'If-None-Match': etag}});
    check(etag && again.status === 304, `${p}: 304 for its ETag`, again.status);
  }
  const root = await fetch(new URL('/', srv.url), {redirect: 'manual'});
  check(root.status === 302 && root.headers.get('location') === '/ui/', '/ redirects to /ui/');
  // no inline script or style in the page itself
  const html = await (await fetch(new URL('/ui/', srv.url))).text();
  check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) && !/\sstyle=/i.test(html) && !/\son[a-z]+=/i.test(html) && !/<style/i.test(html),
    'index.html has no inline script, style or event handler');
}

async function checkSubscriptionAndCluster(srv) {
  const page = await openPage();
  await page.goto(`${srv.url}/ui/`);
  await ready(page, 'subscription');
  check(page.url().endsWith(`#/subscriptions/${SUB}`), 'the console opens on the default subscription', page.url());
  const rows = await page.locator('table.clusters tbody tr').allTextContents();
  check(rows.length === 2 && rows.some((r) => /big.*demo.*1000/.test(r)) && rows.some((r) => /gpu.*demo.*3/.test(r)),
    'the subscription lists both clusters with their pool counts', rows);
  check(/ManagedGPU/.test(await page.locator('#panel-features').textContent()), 'the subscription shows the registered feature');
  await shot(page, 'subscription');
  // keyboard: the skip link comes first, then the subscription field; a cluster is reached and opened by keys
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'skip', 'Tab first reaches the skip link');
  await page.keyboard.press('Enter');
  check(await page.evaluate(() => document.activeElement.id) === 'main', 'the skip link moves focus to the content');
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement.tagName === 'A' && document.activeElement.textContent === 'gpu');
  }
  check(reached, 'Tab reaches the cluster link');
  await page.keyboard.press('Enter');
  await ready(page, 'cluster');
  check(await page.evaluate(() => document.activeElement.id) === 'page-title', 'after a navigation the focus is on the page title');
  const pools = await page.locator('table.pools tbody tr').allTextContents();
  check(pools.length === 3 && /a100.*Standard_NC24ads_A100_v4.*1 × A100-80GB.*MIG3g, MIG2g, MIG1g, MIG1g/.test(pools.join('|')),
    'the cluster lists its pools with GPU and MIG', pools);
  await shot(page, 'cluster');
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'big')}`);
  await ready(page, 'cluster');
  const count = await page.locator('#pool-count').textContent();
  check(/^1000 of 1000 pools, first 200 shown$/.test(count) && await page.locator('table.pools tbody tr').count() === 200,
    'a 1,000-pool cluster shows 200 rows and says so', count);
  await page.fill('#pool-filter', 'p0999');
  check(await page.locator('table.pools tbody tr').count() === 1, 'the pool filter narrows the table');
  await page.setViewportSize({width: 390, height: 844});
  await sleep(100);
  check(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, 'cluster page at 390 px: nothing wider than the screen');
  await shot(page, 'cluster-390', false);
  await clean(page, 'subscription and cluster pages');
  await page.close();
}

async function migRects(page, gpu = 0) {
  return page.locator(`svg.mig[data-gpu="${gpu}"] g.mig-inst:not(.mig-unplaced)`).evaluateAll((gs) => gs.map((g) => ({
    aks: g.dataset.aks, profile: g.dataset.profile, start: Number(g.dataset.start), slices: Number(g.dataset.slices),
    x: Number(g.querySelector('rect').getAttribute('x')), w: Number(g.querySelector('rect').getAttribute('width')),
    label: g.querySelector('title').textContent})));
}

async function checkPoolPages(srv) {
  const page = await openPage();
  // A100, Mixed MIG3g,MIG2g,MIG1g,MIG1g: one GPU, four instances at memory slices 0-1, 2, 3, 4-7
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'gpu', 'a100')}`);
  await ready(page, 'pool');
  check(await page.title() === 'a100 · gpupool console', 'the window title names the pool', await page.title());
  check(await page.locator('svg.mig').count() === 1, 'A100: one GPU drawn');
  const inst = (await migRects(page)).sort((a, b) => a.start - b.start);
  const want = [['MIG2g', '2g.20gb', 0, 2], ['MIG1g', '1g.10gb', 2, 1], ['MIG1g', '1g.10gb', 3, 1], ['MIG3g', '3g.40gb', 4, 4]];
  check(inst.length === 4 && want.every(([aks, prof, start, slices], i) => inst[i].aks === aks && inst[i].profile === prof &&
    inst[i].start === start && inst[i].slices === slices && inst[i].label.startsWith(`${prof} (${aks}), memory slice`) &&
    inst[i].x === 2 + start * 60 + 2 && inst[i].w === slices * 60 - 4), 'A100: the four instances over the right memory slices', inst);
  const setting = async (field) => (await page.locator(`tr[data-field="${field}"]`).allTextContents())[0] || '';
  check(/Managed.*Managed.*declared on the pool/.test(await setting('gpuProfile.nvidia.managementMode')),
    'A100: management mode declared Managed, effective Managed, from the declaration', await setting('gpuProfile.nvidia.managementMode'));
  check(/Mixed.*Mixed/.test(await setting('gpuProfile.nvidia.migStrategy')), 'A100: MIG strategy Mixed');
  const comps = await page.locator('table.components tbody').textContent();
  check(/nvidia-driver\s*580\.159\.04/.test(comps) && /nvidia-device-plugin/.test(comps) && /--mig-strategy mixed/.test(comps) && /mig-partition/.test(comps),
    'A100: components with versions and arguments', comps);
  const alloc = await page.locator('dl.alloc').textContent();
  check(/nvidia\.com\/mig-1g\.10gb2/.test(alloc) && /nvidia\.com\/mig-3g\.40gb1/.test(alloc), 'A100: allocatable per MIG profile', alloc);
  check(await page.locator('table.decisions tbody tr').count() >= 4, 'A100: the decision table');
  check(/reboot/i.test(await page.locator('#panel-warnings').textContent()), 'A100: the plan\'s warnings');
  check(/No machine has reported for this pool yet/.test(await page.locator('#panel-nodes').textContent()), 'nodes panel: says no machine has reported yet');
  check(/No change has rolled out to this pool's machines yet/.test(await page.locator('#panel-rollout').textContent()), 'rollout panel: an Idle rollout says nothing has rolled out yet');
  await shot(page, 'pool-a100');
  const migBottom = await page.locator('#panel-mig').evaluate((e) => e.getBoundingClientRect().bottom + window.scrollY);
  await docShot(page, 'pool', {x: 0, y: 0, width: 1280, height: Math.ceil(migBottom) + 16});
  await page.setViewportSize({width: 390, height: 844});
  await sleep(100);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 390, 'pool page at 390 px: nothing wider than the screen', overflow);
  await shot(page, 'pool-a100-390', false);
  await docShot(page, 'pool-390', {x: 0, y: 0, width: 390, height: 844});
  await page.locator('#panel-mig').evaluate((e) => e.scrollIntoView());
  await shot(page, 'pool-a100-390-mig', false);
  await page.setViewportSize({width: 1280, height: 900});

  // H100 with gpuInstanceProfile MIG1g: eight GPUs, seven 1g.10gb each at slices 0..6
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'gpu', 'h100')}`);
  await ready(page, 'pool');
  check(await page.locator('svg.mig').count() === 8, 'H100: eight GPUs drawn');
  let allOk = true;
  for (let g = 0; g < 8; g++) {
    const r = (await migRects(page, g)).map((i) => `${i.aks}@${i.start}/${i.slices}`).sort().join(' ');
    allOk = allOk && r === 'MIG1g@0/1 MIG1g@1/1 MIG1g@2/1 MIG1g@3/1 MIG1g@4/1 MIG1g@5/1 MIG1g@6/1';
  }
  check(allOk, 'H100: seven 1g.10gb on slices 0-6 of every GPU');
  check(/nvidia\.com\/gpu56/.test(await page.locator('dl.alloc').textContent()), 'H100: 56 allocatable MIG devices');
  await shot(page, 'pool-h100');
  await docShot(page, 'mig-h100', '#panel-mig');

  // T4 unmanaged: no MIG; a tag that is markup shows as text
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'gpu', 't4')}`);
  await ready(page, 'pool');
  check(await page.locator('svg.mig').count() === 0 && /no MIG-capable GPU/.test(await page.locator('#panel-mig').textContent()), 'T4: no MIG layout, said so');
  check(/Unmanaged.*Unmanaged.*declared on the pool/.test(await setting('gpuProfile.nvidia.managementMode')), 'T4: declared Unmanaged');
  const tags = await page.locator('dl.tags').textContent();
  check(tags.includes(XSS), 'XSS: the tag value is shown as text', tags);
  check(await page.locator('img[src="x"], #main img').count() === 0, 'XSS: no element made from the tag value');
  await sleep(300);
  await clean(page, 'pool pages');
  await page.close();
}

async function checkLive(srv) {
  const page = await openPage();
  await page.goto(`${srv.url}/ui/`);
  await page.evaluate(() => sessionStorage.setItem('gpupool.refreshMs', '300'));
  const planStatuses = [];
  page.on('response', (r) => { if (/\/agentPools\/a100\/plan\?/.test(r.url())) planStatuses.push(r.status()); });
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'gpu', 'a100')}`);
  await ready(page, 'pool');
  await page.evaluate(() => { window.__sameDocument = true; });
  await sleep(800);
  const p = `${clusterPath('demo', 'gpu')}/agentPools/a100`;
  const cur = await must(srv, 'GET', p, undefined, null, [200]);
  const body = {properties: {...cur.json.properties, count: 3}, tags: {rev: '2'}};
  delete body.properties.provisioningState;
  await must(srv, 'PUT', p, body, null, [200]);
  let seen = false;
  for (let i = 0; i < 100 && !seen; i++) {
    seen = /Nodes\s*3/.test(await page.locator('#summary').textContent()) && /rev2/.test(await page.locator('dl.tags').textContent());
    if (!seen) await sleep(100);
  }
  check(seen, 'live: the pool page shows the new count and tag without being reloaded');
  check(await page.evaluate(() => window.__sameDocument === true), 'live: same document (no full reload)');
  check(planStatuses.includes(304), 'live: the plan is asked with its ETag and answers 304 while unchanged', planStatuses);
  await clean(page, 'live updates');
  await page.close();
}

async function checkFleetPanels(srv) {
  // Three machines of pool t4 report through the machines API as node agents do (m-003 behind the
  // pool's plan); then a real rollout on this gpupoold: Unmanaged -> Managed (class Restart), one
  // machine at a time. m-001 applies the new generation and reports Conformant, so m-002 moves next,
  // and its GPU fails during its step: the rollout halts, naming it.
  const p = `${clusterPath('demo', 'gpu')}/agentPools/t4`;
  const m = `${p}/machines`;
  const gen = (await must(srv, 'GET', `${p}/plan`, undefined, null, [200])).json.generation;
  const report = (name, applied, failed) => must(srv, 'PUT', `${m}/${name}`, {properties: {hardware: {vmSize: 'Standard_NC4as_T4_v3'},
    kubernetes: {ready: true, unschedulable: false},
    status: {reportIntervalSeconds: 60, appliedGeneration: applied, gpus: [{index: 0, health: failed ? 'Failed' : 'Healthy'}],
      health: failed ? {state: 'Failed', events: [{time: new Date().toISOString(), gpu: 0, xid: 79, class: 'Fatal',
        message: 'Xid 79: GPU has fallen off the bus'}]} : {state: 'Healthy'}}}}, null, [200, 201]);
  await report('m-001', gen, false);
  await report('m-002', gen, false);
  await report('m-003', gen - 1, false);
  const cur = (await must(srv, 'GET', p, undefined, null, [200])).json;
  const body = {tags: cur.tags, properties: {...cur.properties, upgradeSettings: {maxUnavailable: '1'},
    gpuProfile: {...cur.properties.gpuProfile, nvidia: {...cur.properties.gpuProfile.nvidia, managementMode: 'Managed'}}}};
  for (const k of ['provisioningState', 'status']) delete body.properties[k];
  await must(srv, 'PUT', p, body, null, [200]);
  const target = async (name) => (await must(srv, 'GET', `${m}/${name}`, undefined, null, [200])).json.properties.status.targetGeneration;
  const waitTarget = async (name) => {
    for (let i = 0; i < 100 && await target(name) !== gen + 1; i++) await sleep(100);
    return target(name);
  };
  check(await waitTarget('m-001') === gen + 1, 'rollout: the first machine moves to the new generation');
  await report('m-001', gen + 1, false);
  check(await waitTarget('m-002') === gen + 1, 'rollout: the next machine moves once the first is Conformant');
  await report('m-002', gen, true);
  let state = '';
  for (let i = 0; i < 100 && state !== 'Halted'; i++) {
    state = (await must(srv, 'GET', p, undefined, null, [200])).json.properties.status.rollout.state;
    if (state !== 'Halted') await sleep(100);
  }
  check(state === 'Halted', 'rollout: halted by the machine whose GPU failed', state);
  const page = await openPage();
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'gpu', 't4')}`);
  await ready(page, 'pool');
  const rows = await page.locator('table.machines tbody tr').allTextContents();
  check(rows.length === 3 && new RegExp(`m-001.*Conformant.*1/1 healthy.*${gen + 1} / ${gen + 1}`).test(rows[0]) &&
    /m-002.*Unhealthy.*0\/1 healthy/.test(rows[1]) && new RegExp(`m-003.*Applying.*1/1 healthy.*${gen - 1} / ${gen}`).test(rows[2]),
    'nodes panel: machines with state, GPU health, generations (reported through the machines API)', rows);
  check(/3\s*Total/.test(await page.locator('.stat-chips').textContent()), 'nodes panel: the pool\'s status.nodes summary');
  const bar = await page.locator('#panel-rollout progress').evaluate((e) => [e.value, e.max]);
  const ro = await page.locator('#panel-rollout').textContent();
  check(bar[0] === 1 && bar[1] === 3 && /Halted/.test(ro) && new RegExp(`generation ${gen} → ${gen + 1}`).test(ro) && /class Restart/.test(ro) &&
    /1 of 3 updated · 1 pending · 1 failed/.test(ro) && /Halted bym-002/.test(ro) && /Reason.*m-002/.test(ro),
    'rollout panel: from → to, class, progress, the machine that halted it and why (a real rollout)', {bar, ro});
  await shot(page, 'fleet-panels');
  await clean(page, 'fleet panels');
  await page.close();
}

async function checkForm(srv) {
  const page = await openPage();
  await page.goto(`${srv.url}/ui/${hashFor('demo', 'gpu')}/add`);
  await ready(page, 'addpool');
  // every control has a label
  const unlabelled = await page.locator('input, select, button, textarea').evaluateAll((els) => els.filter((e) => {
    if (e.type === 'hidden' || e.closest('dialog')) return false;
    const name = (e.labels && [...e.labels].map((l) => l.textContent).join(' ')) || e.getAttribute('aria-label') ||
      (e.getAttribute('aria-labelledby') || '').split(' ').map((id) => (document.getElementById(id) || {}).textContent || '').join(' ') ||
      (e.tagName === 'BUTTON' ? e.textContent : '');
    return !name.trim();
  }).map((e) => e.outerHTML.slice(0, 120)));
  check(unlabelled.length === 0, 'form: every control has a label', unlabelled);
  await page.selectOption('#f-vmSize', 'Standard_NC24ads_A100_v4');
  check(await page.locator('.mig-pick').count() === 5, 'form: the A100 offers five MIG profiles');
  await page.fill('#f-name', 'refused');
  await page.selectOption('#f-managementMode', 'Managed');
  await page.selectOption('#f-migStrategy', 'Mixed');
  for (const p of ['MIG3g', 'MIG3g', 'MIG1g']) await page.click(`.mig-pick[data-aks="${p}"]`);
  await page.locator('#mig-status', {hasText: 'Does not fit'}).waitFor({timeout: 10000});
  const placed = (await migRects(page)).map((i) => `${i.aks}@${i.start}`).sort();
  const left = await page.locator('svg.mig g.mig-unplaced').evaluateAll((gs) => gs.map((g) => g.dataset.aks));
  check(placed.join(' ') === 'MIG3g@0 MIG3g@4' && left.join(' ') === 'MIG1g' && await page.locator('svg.mig-refused').count() === 1,
    'form: the refused layout is drawn with what does not fit', {placed, left});
  await page.click('.pool-form button[type=submit]');
  await page.locator('#err-migProfiles:not([hidden])').waitFor({timeout: 10000});
  const err = await page.locator('#err-migProfiles').textContent();
  check(/^InvalidMIGLayout The MIG instances MIG3g,MIG3g,MIG1g cannot all be placed.* properties\.gpuProfile\.nvidia\.migProfiles$/.test(err),
    'form: the refusal (code, message, target) is next to the MIG profiles field', err);
  check(await page.locator('#field-migProfiles.invalid').count() === 1 && /InvalidMIGLayout/.test(await page.locator('#form-summary').textContent()) &&
    await page.evaluate(() => document.activeElement.id) === 'form-summary', 'form: the summary lists it and takes the focus');
  await shot(page, 'add-pool-refused');
  await docShot(page, 'add-pool-refused', '#field-migProfiles');
  await page.setViewportSize({width: 390, height: 844});
  await sleep(100);
  check(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, 'form at 390 px: nothing wider than the screen');
  await page.locator('#field-migProfiles').evaluate((e) => e.scrollIntoView());
  await shot(page, 'add-pool-refused-390', false);
  await page.setViewportSize({width: 1280, height: 900});
  // another target: the count
  await page.fill('#f-count', '5000');
  await page.click('.pool-form button[type=submit]');
  await page.locator('#err-count:not([hidden])').waitFor({timeout: 10000});
  check(/InvalidParameter/.test(await page.locator('#err-count').textContent()), 'form: a bad count is refused next to the count field');
  // fix both: drop the second MIG3g, add MIG2g and MIG1g (MIG3g,MIG1g,MIG2g,MIG1g fits), count 1
  await page.fill('#f-count', '1');
  await page.click('.mig-chosen li:nth-child(2) button');
  for (const p of ['MIG2g', 'MIG1g']) await page.click(`.mig-pick[data-aks="${p}"]`);
  await page.locator('#mig-status', {hasText: 'Fits'}).waitFor({timeout: 10000});
  await page.fill('#f-tags', `owner=${XSS}`);
  await page.click('.pool-form button[type=submit]');
  await ready(page, 'pool');
  check(page.url().endsWith(hashFor('demo', 'gpu', 'refused')), 'form: an accepted pool opens its page', page.url());
  const created = await waitSucceeded(srv, `${clusterPath('demo', 'gpu')}/agentPools/refused`);
  check(JSON.stringify(created.properties.gpuProfile.nvidia.migProfiles) === '["MIG3g","MIG1g","MIG2g","MIG1g"]' &&
    created.tags.owner === XSS, 'form: the PUT carried the chosen profiles and tags', created);
  await clean(page, 'add-pool form');
  await page.close();
}

// WCAG contrast of every text on the pages (4.5:1, 3:1 for large text), and of the MIG labels.
async function checkContrast(srv) {
  const page = await openPage();
  const bad = [];
  for (const h of [hashFor('demo', 'gpu', 'a100'), hashFor('demo', 'gpu'), `${hashFor('demo', 'gpu')}/add`]) {
    await page.goto(`${srv.url}/ui/${h}`);
    await page.locator('html[data-ready]').waitFor({state: 'attached'});
    bad.push(...await page.evaluate(() => {
      const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      const bgOf = (el) => {
        for (let e = el; e; e = e.parentElement) {
          const c = rgb(getComputedStyle(e).backgroundColor);
          if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
        }
        return [255, 255, 255];
      };
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!n.textContent.trim() || !el || el.closest('svg, .sr-only, [hidden], dialog:not([open]), noscript, option')) continue;
        const cs = getComputedStyle(el);
        if (cs.visibility === 'hidden' || cs.display === 'none' || !el.getClientRects().length) continue;
        const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
        const r = ratio(rgb(cs.color), bgOf(el));
        if (r < (large ? 3 : 4.5)) out.push(`${location.hash} "${n.textContent.trim().slice(0, 30)}" ${r.toFixed(2)}`);
      }
      for (const g of document.querySelectorAll('svg g.mig-inst')) {
        const r = ratio(rgb(getComputedStyle(g.querySelector('text')).fill), rgb(getComputedStyle(g.querySelector('rect')).fill));
        if (r < 4.5) out.push(`MIG label ${g.dataset.aks} ${r.toFixed(2)}`);
      }
      return out;
    }));
  }
  check(bad.length === 0, 'contrast: every text at least 4.5:1 (3:1 large)', bad.slice(0, 10));
  await page.close();
}

// First render of a page (cold: no cache), and what it transfers: every response body, uncompressed,
// from the browser's Resource Timing (same origin: the sizes are exposed), so that measuring adds no
// work of its own to the load.
async function measure(srv, hash, readyName, runs) {
  const page = await openPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', {cacheDisabled: true});
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    await page.goto('about:blank');
    await page.goto(`${srv.url}/ui/${hash}`);
    await ready(page, readyName);
    times.push(await page.evaluate((n) => performance.getEntriesByName(`gp-ready-${n}`)[0].startTime, readyName));
    await sleep(150); // late requests (the icon) count too
    last = await page.evaluate(() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .map((e) => ({api: !new URL(e.name).pathname.startsWith('/ui/'), n: e.decodedBodySize})));
  }
  // the same page reached inside the console (a link: no document load), from another pool's page
  const inApp = [];
  if (readyName === 'pool') {
    for (let i = 0; i < runs; i++) {
      const other = hash.replace(/[^/]+$/, i % 2 ? 'p0505' : 'p0508');
      await page.evaluate((h) => { location.hash = h; }, other);
      await page.waitForFunction((h) => location.hash === h && document.documentElement.dataset.ready === 'pool', other);
      const t = await page.evaluate(async (h) => {
        performance.clearMarks('gp-ready-pool');
        const t0 = performance.now();
        location.hash = h;
        await new Promise((r) => { const w = () => (performance.getEntriesByName('gp-ready-pool').length ? r() : setTimeout(w, 1)); w(); });
        return performance.getEntriesByName('gp-ready-pool')[0].startTime - t0;
      }, hash);
      inApp.push(t);
    }
  }
  const sum = (xs) => xs.reduce((a, b) => a + b.n, 0);
  const result = {times: times.map((t) => Math.round(t * 10) / 10), runs, requests: last.length, bytes: sum(last),
    assetBytes: sum(last.filter((x) => !x.api)), apiBytes: sum(last.filter((x) => x.api)), apiRequests: last.filter((x) => x.api).length};
  const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  times.sort((a, b) => a - b);
  Object.assign(result, {median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1]});
  if (inApp.length) Object.assign(result, {inApp: {median: med(inApp), min: Math.min(...inApp), max: Math.max(...inApp)}});
  if (readyName === 'pool') check(await page.locator('svg.mig g.mig-inst').count() === 4, 'the measured page is a full A100 pool page');
  await clean(page, `measured ${readyName} page`);
  await page.close();
  return result;
}

// What any document costs chromium here: a cold load of /healthz (a one-line JSON document) to its
// DOMContentLoaded. The bench reports it beside the console's figures.
async function baseline(srv, runs) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', {cacheDisabled: true});
  const t = [];
  for (let i = 0; i < runs; i++) {
    await page.goto('about:blank');
    await page.goto(`${srv.url}/healthz`);
    t.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd));
  }
  await page.close();
  t.sort((a, b) => a - b);
  return {median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1], runs};
}

async function checkAuth() {
  const tok = (label) => `${label}-${crypto.randomBytes(24).toString('base64url')}`;
  const admin = tok('admin'), reader = tok('reader');
  const sha = (t) => crypto.createHash('sha256').update(t).digest('hex');
  const file = path.join(tmpRoot, 'tokens');
  fs.writeFileSync(file, `${sha(admin)} admin Contributor /\n${sha(reader)} reader Reader ${clusterPath('rg1', 'c1')}\n`);
  const srv = await startServer(['--auth', 'tokens', '--tokens-file', file]);
  try {
    for (const c of ['c1', 'c2']) {
      await must(srv, 'PUT', clusterPath(c === 'c1' ? 'rg1' : 'rg2', c), {location: 'eastus'}, admin, [201]);
      await waitSucceeded(srv, clusterPath(c === 'c1' ? 'rg1' : 'rg2', c), admin);
    }
    const ui = await fetch(new URL('/ui/app.js', srv.url));
    check(ui.status === 200, 'auth on: the console\'s files need no token');
    const page = await openPage();
    await page.goto(`${srv.url}/ui/`);
    await page.locator('#auth-dialog[open]').waitFor({timeout: 10000});
    check(await page.evaluate(() => document.activeElement.id) === 'token-input', 'auth on: a 401 opens the sign-in dialog, focus in the token field');
    await page.fill('#token-input', reader);
    await page.keyboard.press('Enter');
    await ready(page, 'subscription');
    const rows = await page.locator('table.clusters tbody tr').allTextContents();
    check(rows.length === 1 && /^c1/.test(rows[0]), 'auth on: a token that may read one cluster sees only that one', rows);
    check(!page.url().includes(reader) && await page.evaluate(() => sessionStorage.length === 0 ||
      !Object.values(sessionStorage).some((v) => v.length > 40)), 'auth on: the token is not in the URL nor kept unless asked');
    // kept for the tab when asked: survives a reload; sign out forgets it
    await page.click('#auth-area button');
    await page.goto(`${srv.url}/ui/`);
    await page.locator('#auth-dialog[open]').waitFor();
    await page.fill('#token-input', reader);
    await page.check('#token-remember');
    await page.click('#auth-form button[type=submit]');
    await ready(page, 'subscription');
    await page.reload();
    await ready(page, 'subscription');
    check(await page.locator('table.clusters tbody tr').count() === 1, 'auth on: a kept token survives a reload of the tab');
    await page.click('#auth-area button');
    check(await page.evaluate(() => sessionStorage.getItem('gpupool.token')) === null, 'auth on: signing out forgets the token');
    await shot(page, 'sign-in', false);
    await page.close();
    check(!srv.log.includes(reader) && !srv.log.includes(admin), 'auth on: no token in gpupoold\'s log');
  } finally {
    await stopServer(srv);
  }
}

async function main() {
  const t0 = Date.now();
  const srv = await startServer();
  await seed(srv);
  const tSeed = Date.now() - t0;
  const userDataDir = fs.mkdtempSync(path.join(tmpRoot, 'chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, viewport: {width: 1280, height: 900},
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-dev-shm-usage'],
  });
  for (const p of context.pages()) await p.close();
  await checkHeaders(srv);
  await checkSubscriptionAndCluster(srv);
  await checkPoolPages(srv);
  await checkFleetPanels(srv);
  await checkForm(srv);
  await checkLive(srv);
  await checkContrast(srv);
  const m = await measure(srv, hashFor('demo', 'big', 'p0502'), 'pool', BENCH ? 21 : 5);
  check(m.median < FIRST_RENDER_LIMIT_MS, `pool page first render in a 1,000-pool cluster under ${FIRST_RENDER_LIMIT_MS} ms`, m);
  check(m.bytes < TRANSFER_LIMIT, 'pool page transfer under 150 KB uncompressed', m);
  const mc = BENCH ? await measure(srv, hashFor('demo', 'big'), 'cluster', 9) : null;
  const base = BENCH ? await baseline(srv, 21) : null;
  await stopServer(srv);
  await checkAuth();
  await context.close();
  if (DOCS) for (const n of DOC_SHOTS) fs.copyFileSync(path.join(OUT, `docs-${n}.png`), path.join(DOCS, `console-${n}.png`));
  const figures = {poolPage: m, clusterPage: mc, baseline: base, seedMs: tSeed, totalMs: Date.now() - t0};
  fs.writeFileSync(path.join(OUT, 'figures.json'), JSON.stringify(figures, null, 2) + '\n');
  console.log(`ui: pool page in a 1,000-pool cluster: first render median ${m.median.toFixed(1)} ms (min ${m.min.toFixed(1)}, ` +
    `max ${m.max.toFixed(1)}, ${m.runs} cold loads), ${m.requests} requests, ${m.bytes} bytes; screenshots in ${OUT}`);
  console.log(`ui: ${passed} checks passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main().catch(async (e) => {
  console.error(e);
  failed++;
  // what the browser showed when it failed
  for (const [i, p] of (context ? context.pages() : []).entries()) {
    console.error(`page ${i}: ${p.url()} problems: ${JSON.stringify(p.problems || [])}`);
    await p.screenshot({path: path.join(OUT, `failure-${i}.png`), fullPage: true}).catch(() => {});
  }
}).finally(async () => {
  if (context) await context.close().catch(() => {});
  for (const s of servers.slice()) { s.proc.kill('SIGKILL'); }
  fs.rmSync(tmpRoot, {recursive: true, force: true});
  process.exit(failed ? 1 : 0);
});
