// api.js - the console's only way to the server: the public ARM API of gpupoold, same origin, with
// the caller's bearer token when there is one. The token lives in this module (memory) and, only
// if the user asks, in sessionStorage for this tab; it is sent in the Authorization header and
// nowhere else: never in a URL, never logged, never sent to another origin (absolute URLs the
// server returns, such as nextLink, are reduced to their path on this origin).

export const API_VERSION = '2026-10-02-preview'; // the newest: shows every GPU field
export const FEATURES_API_VERSION = '2021-07-01';
export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000'; // the gpupool CLI's default
const TOKEN_KEY = 'gpupool.token';

let token = sessionStorage.getItem(TOKEN_KEY);
const authListeners = new Set();

export function hasToken() {
  return !!token;
}

export function tokenRemembered() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

export function setToken(value, remember) {
  token = value || null;
  if (token && remember) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Called with the 401 error when the server wants a (new) token.
export function onAuthNeeded(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export class ApiError extends Error {
  constructor(status, body, path) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || `HTTP${status}`;
    this.target = e.target || null;
    this.details = Array.isArray(e.details) && e.details.length ? e.details : [{code: this.code, message: this.message, target: this.target}];
    this.path = path;
  }
}

const enc = encodeURIComponent;

export const paths = {
  subscription: (sub) => `/subscriptions/${enc(sub)}`,
  clusters: (sub) => `/subscriptions/${enc(sub)}/providers/Microsoft.ContainerService/managedClusters`,
  cluster: (sub, rg, c) =>
    `/subscriptions/${enc(sub)}/resourceGroups/${enc(rg)}/providers/Microsoft.ContainerService/managedClusters/${enc(c)}`,
  pools: (sub, rg, c) => `${paths.cluster(sub, rg, c)}/agentPools`,
  pool: (sub, rg, c, p) => `${paths.cluster(sub, rg, c)}/agentPools/${enc(p)}`,
  plan: (sub, rg, c, p) => `${paths.pool(sub, rg, c, p)}/plan`,
  machines: (sub, rg, c, p) => `${paths.pool(sub, rg, c, p)}/machines`,
  vmSizes: (sub) => `/subscriptions/${enc(sub)}/providers/Microsoft.ContainerService/gpuVMSizes`,
  vmSize: (sub, name) => `${paths.vmSizes(sub)}/${enc(name)}`,
  features: (sub) => `/subscriptions/${enc(sub)}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features`,
};

// Same-origin path + query of a URL the server gave (nextLink, Azure-AsyncOperation).
function localPath(url) {
  const u = new URL(url, location.origin);
  return u.pathname + u.search;
}

// call('GET', path, {query, body, headers, apiVersion}) -> {status, etag, json, headers}
// Throws ApiError for anything but 2xx and 304.
export async function call(method, path, opts = {}) {
  const u = new URL(localPath(path), location.origin);
  if (!u.searchParams.has('api-version')) u.searchParams.set('api-version', opts.apiVersion || API_VERSION);
  for (const [k, v] of Object.entries(opts.query || {})) u.searchParams.set(k, v);
  const headers = new Headers(opts.headers || {});
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let body;
  if (opts.body !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(u.pathname + u.search, {
    method, headers, body, cache: 'no-store', credentials: 'omit', redirect: 'error', signal: opts.signal,
  });
  let json = null;
  if ((res.headers.get('Content-Type') || '').includes('json')) {
    try { json = await res.json(); } catch { json = null; }
  }
  if (res.status === 401) authListeners.forEach((fn) => fn());
  if (!res.ok && res.status !== 304) throw new ApiError(res.status, json, u.pathname);
  return {status: res.status, etag: res.headers.get('ETag'), json, headers: res.headers};
}

export const get = (path, opts) => call('GET', path, opts);

// A list: its first page, with the nextLink (as a local path) when there is more.
export async function listPage(path, opts = {}) {
  const r = await get(path, opts);
  const v = (r.json && r.json.value) || [];
  return {items: v, next: r.json && r.json.nextLink ? localPath(r.json.nextLink) : null};
}

// The GPU VM catalog, fetched once per size (it is the server's build data; it does not change).
const sizeCache = new Map();
export function vmSize(sub, name) {
  const key = `${sub}|${String(name).toLowerCase()}`;
  if (!sizeCache.has(key)) {
    const p = get(paths.vmSize(sub, name)).then((r) => r.json);
    p.catch(() => sizeCache.delete(key));
    sizeCache.set(key, p);
  }
  return sizeCache.get(key);
}

const listCache = new Map();
export function vmSizeList(sub) {
  if (!listCache.has(sub)) {
    const p = listPage(paths.vmSizes(sub)).then((r) => r.items);
    p.catch(() => listCache.delete(sub));
    listCache.set(sub, p);
  }
  return listCache.get(sub);
}
