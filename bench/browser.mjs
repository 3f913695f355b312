// scripts/bench's measurements in headless Chromium, against the dev stack (TEST_ROUTES=1) and the site scripts/bench
// serves on 127.0.0.1:8080 (the release app, the harness at /bench/, oidc-client-ts at /bench/peer.html):
//
//   per-call cost   a valid, fresh access token: 10,000 sequential and 1,000 concurrent lookups inside the wasm
//                   (lookup_ns), called from JavaScript (lookup_js_ns: the token at once when fresh; and
//                   lookup_js_async_ns: always through a promise), and oidc-client-ts getUser() on sessionStorage
//                   with a stored user (peer_getuser_ns)
//   refresh storms  1,000 concurrent lookups with an expired access token, 1,000 concurrent API requests that all get
//                   401, the same storm through oidc-client-ts signinSilent(): refresh tokens presented, consumed and
//                   refused as reused, counted at the IdP per test client; wall times next to one refresh round trip
//   refreshes       with background refresh on and 20-second access tokens, the app and oidc-client-ts (its defaults,
//                   automaticSilentRenew) side by side for two minutes: refresh tokens presented, reuse
//   cold load       the app with a stored session opening /profile until the profile is on screen, CPU 4× slower and
//                   Lighthouse's mobile network (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), cache off; requests to
//                   the IdP and the API; the wasm's compile time apart
//
// Every figure is a median over runs with min and max (`{median, min, max, runs}`); counts are totals or per run.
// Prints progress and writes target/bench/browser.json (scripts/bench.mjs prints the table).
//   Usage: node bench/browser.mjs REPO   (BENCH_RUNS, default 7; BENCH_REFRESH_WINDOW_S, default 120; BENCH_ONLY)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import {
  ALICE, API, APP, IDP, clientStats, leaseClient, signInAtIdp, sleep, testRoute, useAppConfig,
} from '../tests/e2e/browser.mjs';

const repo = process.argv[2];
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const WINDOW_S = Number(process.env.BENCH_REFRESH_WINDOW_S ?? 120);
const SEQUENTIAL = 10_000;
const CONCURRENT = 1_000;
const STORM = 1_000;
const REVOKE = `${IDP}/v1/oauth/revoke`;
const authSection = JSON.parse(readFileSync(join(repo, 'public', 'config.json'), 'utf8')).auth;

const log = (...args) => console.log('   ', ...args);

/** `{median, min, max, runs}` of numbers. */
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (v) => Math.round(v * 10) / 10;
  return { median: round(median), min: round(sorted[0]), max: round(sorted.at(-1)), runs: sorted.length };
};

/** Runs `fn` once to warm up, then RUNS times; returns the summary of its results. */
const repeated = async (fn, runs = RUNS) => {
  await fn();
  const values = [];
  for (let i = 0; i < runs; i += 1) values.push(await fn());
  return summary(values);
};

/** A token-endpoint answer for ALICE from a fresh grant of `clientId` (the dev stack's code flow). */
const tokenResponse = async (clientId) => testRoute('POST', `/test/session?user=alice&client_id=${clientId}`);

const refreshCounts = async (clientId) => (await clientStats(clientId)).refresh;
const delta = (after, before) => ({
  presented: after.presented - before.presented,
  consumed: after.consumed - before.consumed,
  reuse: after.reuse - before.reuse,
});

const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
});

const openPage = async (browser) => {
  const context = await browser.newContext();
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  return { context, page };
};

/** The harness page, signed in with a fresh grant of `clientId`. */
const harness = async (browser, clientId) => {
  const { context, page } = await openPage(browser);
  await page.goto(`${APP}/bench/`);
  await page.waitForFunction(() => window.wasmBindings?.setup);
  const auth = JSON.stringify({ ...authSection, client_id: clientId });
  await page.evaluate(async ([a, t]) => window.wasmBindings.setup(a, t), [auth, JSON.stringify(await tokenResponse(clientId))]);
  return { context, page };
};

/** The peer page with oidc-client-ts configured for `clientId` and a user stored from a fresh grant. */
const peerPage = async (browser, clientId, { automaticSilentRenew = false } = {}) => {
  const { context, page } = await openPage(browser);
  await page.goto(`${APP}/bench/peer.html`);
  await page.waitForFunction(() => window.oidcClientTs);
  await page.evaluate(async ([authority, clientId, scope, tokens, renew]) => {
    const { User, UserManager, WebStorageStateStore } = window.oidcClientTs;
    const payload = tokens.id_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const profile = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')));
    window.manager = new UserManager({
      authority,
      client_id: clientId,
      redirect_uri: `${location.origin}/callback`,
      post_logout_redirect_uri: `${location.origin}/signed-out`,
      scope,
      userStore: new WebStorageStateStore({ store: sessionStorage }),
      automaticSilentRenew: renew,
    });
    window.renewals = { ok: 0, failed: 0 };
    window.manager.events.addUserLoaded(() => { window.renewals.ok += 1; });
    window.manager.events.addSilentRenewError(() => { window.renewals.failed += 1; });
    await window.manager.storeUser(new User({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      id_token: tokens.id_token,
      token_type: tokens.token_type,
      scope: tokens.scope,
      profile,
      expires_at: Math.floor(Date.now() / 1000) + tokens.expires_in,
    }));
    // getUser() loads the stored user and arms the expiry timers automaticSilentRenew listens to.
    if (!(await window.manager.getUser())) throw new Error('oidc-client-ts did not load the stored user');
  }, [IDP, clientId, authSection.scopes.join(' '), await tokenResponse(clientId), automaticSilentRenew]);
  return { context, page };
};

// Each run times its calls in one window: BATCHES × 10,000 sequential or BATCHES rounds of 1,000 concurrent. The site
// is served cross-origin isolated (dev/static.mjs --isolate), where performance.now() has a 5 µs grain (100 µs
// otherwise); `timer_isolated` records which.
const BATCHES = 10;

/** ns per call: BATCHES × `count` calls of `expr` (a promise or a value), each awaited before the next. */
const jsLoopNs = (page, expr, count) => page.evaluate(async ([expr, count, batches]) => {
  const call = new Function(`return ${expr}`);
  const start = performance.now();
  for (let b = 0; b < batches; b += 1) for (let i = 0; i < count; i += 1) await call();
  return ((performance.now() - start) * 1e6) / (count * batches);
}, [expr, count, BATCHES]);

/** ns per call: BATCHES rounds of `count` calls of `expr` started at once and awaited together. */
const jsConcurrentNs = (page, expr, count) => page.evaluate(async ([expr, count, batches]) => {
  const call = new Function(`return ${expr}`);
  const start = performance.now();
  for (let b = 0; b < batches; b += 1) await Promise.all(Array.from({ length: count }, () => call()));
  return ((performance.now() - start) * 1e6) / (count * batches);
}, [expr, count, BATCHES]);

const perCall = async (browser) => {
  log(`per-call cost: ${BATCHES} × ${SEQUENTIAL} sequential and ${BATCHES} × ${CONCURRENT} concurrent lookups, ${RUNS} runs each`);
  const ours = await harness(browser, await leaseClient({ access_token_ttl: 3600 }));
  const isolated = await ours.page.evaluate(() => self.crossOriginIsolated);
  const inside = await repeated(async () => ((await ours.page.evaluate((n) => window.wasmBindings.lookup_loop(n), SEQUENTIAL * BATCHES)) * 1e6) / (SEQUENTIAL * BATCHES));
  const insideConcurrent = await repeated(async () => ((await ours.page.evaluate(([n, b]) => window.wasmBindings.lookup_concurrent(n, b), [CONCURRENT, BATCHES])) * 1e6) / (CONCURRENT * BATCHES));
  const js = await repeated(() => jsLoopNs(ours.page, 'window.wasmBindings.access_token()', SEQUENTIAL));
  const jsConcurrent = await repeated(() => jsConcurrentNs(ours.page, 'window.wasmBindings.access_token()', CONCURRENT));
  const jsUncached = await repeated(() => jsLoopNs(ours.page, 'window.wasmBindings.access_token_uncached()', SEQUENTIAL));
  const jsAsync = await repeated(() => jsLoopNs(ours.page, 'window.wasmBindings.access_token_async()', SEQUENTIAL));
  await ours.context.close();
  const peer = await peerPage(browser, await leaseClient({ access_token_ttl: 3600 }));
  const getUser = await repeated(() => jsLoopNs(peer.page, 'window.manager.getUser()', SEQUENTIAL));
  const getUserConcurrent = await repeated(() => jsConcurrentNs(peer.page, 'window.manager.getUser()', CONCURRENT));
  await peer.context.close();
  return {
    timer_isolated: isolated,
    lookup_ns: inside,
    lookup_concurrent_ns: insideConcurrent,
    lookup_js_ns: js,
    lookup_js_concurrent_ns: jsConcurrent,
    lookup_js_uncached_ns: jsUncached,
    lookup_js_async_ns: jsAsync,
    peer_getuser_ns: getUser,
    peer_getuser_concurrent_ns: getUserConcurrent,
    lookup_js_speedup_vs_getuser: Math.round((getUser.median / js.median) * 10) / 10,
  };
};

const storms = async (browser) => {
  const runs = Math.max(3, Math.ceil(RUNS / 2));
  log(`refresh storms: ${STORM} concurrent callers, ${runs} runs each (fresh grants per run)`);
  const expired = []; const unauthorized = []; const roundTrips = []; const peer = []; const valid = [];
  for (let run = 0; run < runs; run += 1) {
    // 2-second tokens: one refresh round trip, then the refreshed token left to expire before the storm.
    const shortLived = await leaseClient({ access_token_ttl: 2 });
    const a = await harness(browser, shortLived);
    roundTrips.push(await a.page.evaluate(() => window.wasmBindings.refresh_once()));
    await sleep(2_500);
    let before = await refreshCounts(shortLived);
    const e = JSON.parse(await a.page.evaluate((n) => window.wasmBindings.storm_expired(n), STORM));
    expired.push({ ...e, ...delta(await refreshCounts(shortLived), before) });
    await a.context.close();

    const clientId = await leaseClient({ access_token_ttl: 3600 });
    const { context, page } = await harness(browser, clientId);
    // The same 1,000 API requests with a valid token: what the 401 storm costs on top.
    valid.push(JSON.parse(await page.evaluate(([n, url]) => window.wasmBindings.storm_api(n, url), [STORM, `${API}/api/user/profile`])).ms);
    // The API refuses the current access token (revoked at the IdP), and accepts the refreshed one.
    await page.evaluate(async ([revoke, clientId]) => {
      const token = await window.wasmBindings.access_token();
      const res = await fetch(revoke, { method: 'POST', body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: clientId }) });
      if (!res.ok) throw new Error(`revocation answered HTTP ${res.status}`);
    }, [REVOKE, clientId]);
    before = await refreshCounts(clientId);
    const apiBefore = (await clientStats(clientId)).api.by_status;
    const u = JSON.parse(await page.evaluate(([n, url]) => window.wasmBindings.storm_api(n, url), [STORM, `${API}/api/user/profile`]));
    const apiAfter = (await clientStats(clientId)).api.by_status;
    const answers = Object.fromEntries(Object.entries(apiAfter).map(([status, n]) => [status, n - (apiBefore[status] ?? 0)]));
    unauthorized.push({ ...u, ...delta(await refreshCounts(clientId), before), answers });
    await context.close();

    const peerClient = await leaseClient({ access_token_ttl: 3600 });
    const p = await peerPage(browser, peerClient);
    before = await refreshCounts(peerClient);
    const s = await p.page.evaluate(async (n) => {
      const start = performance.now();
      const results = await Promise.allSettled(Array.from({ length: n }, () => window.manager.signinSilent()));
      const ok = results.filter((r) => r.status === 'fulfilled' && r.value).length;
      return { ms: performance.now() - start, ok, failed: n - ok };
    }, STORM);
    peer.push({ ...s, ...delta(await refreshCounts(peerClient), before) });
    await p.context.close();
  }
  const worst = (list, key) => Math.max(...list.map((r) => r[key]));
  const least = (list, key) => Math.min(...list.map((r) => r[key]));
  return {
    refresh_round_trip_ms: summary(roundTrips),
    storm_expired_ms: summary(expired.map((r) => r.ms)),
    storm_expired_token_posts: worst(expired, 'presented'),
    storm_expired_token_posts_min: least(expired, 'presented'),
    storm_expired_failed_calls: worst(expired, 'failed'),
    api_1000_valid_token_ms: summary(valid),
    storm_401_ms: summary(unauthorized.map((r) => r.ms)),
    storm_401_token_posts: worst(unauthorized, 'presented'),
    storm_401_token_posts_min: least(unauthorized, 'presented'),
    storm_401_failed_calls: worst(unauthorized, 'failed'),
    storm_401_api_answers_last_run: unauthorized.at(-1).answers,
    storm_reused_refresh_tokens: worst(expired, 'reuse') + worst(unauthorized, 'reuse'),
    peer_storm_signinsilent_ms: summary(peer.map((r) => r.ms)),
    peer_storm_token_posts: summary(peer.map((r) => r.presented)),
    peer_storm_reused_refresh_tokens: summary(peer.map((r) => r.reuse)),
    peer_storm_failed_calls: summary(peer.map((r) => r.failed)),
  };
};

/**
 * Signs in through the app and waits for the signed-in header: with `clientId`, under a config for it (served by
 * request interception); without, with the site's own config.json and nothing intercepted.
 */
const appSignedIn = async (browser, clientId, path = '/') => {
  const { context, page } = await openPage(browser);
  if (clientId) await useAppConfig(context, { client_id: clientId });
  await page.goto(`${APP}/`);
  await page.getByTestId('sign-in').click();
  await signInAtIdp(page, ALICE);
  await page.waitForURL((url) => url.origin === APP && url.pathname === '/');
  await page.getByTestId('user-name').waitFor({ state: 'visible' });
  if (path !== '/') await page.goto(`${APP}${path}`);
  return { context, page };
};

const refreshWindow = async (browser) => {
  log(`refreshes in ${WINDOW_S} s with 20-second access tokens, background refresh on (the app and oidc-client-ts side by side)`);
  const ours = await leaseClient({ access_token_ttl: 20 });
  const theirs = await leaseClient({ access_token_ttl: 20 });
  const app = await appSignedIn(browser, ours);
  const appBefore = await refreshCounts(ours);
  const peer = await peerPage(browser, theirs, { automaticSilentRenew: true });
  const peerBefore = await refreshCounts(theirs);
  await sleep(WINDOW_S * 1000);
  const appDelta = delta(await refreshCounts(ours), appBefore);
  const peerDelta = delta(await refreshCounts(theirs), peerBefore);
  const stillSignedIn = await app.page.getByTestId('user-name').isVisible();
  await app.context.close();
  await peer.context.close();
  return {
    refresh_window_s: WINDOW_S,
    refreshes_2min_20s_token: appDelta.presented,
    refreshes_2min_20s_token_reused: appDelta.reuse,
    refreshes_2min_20s_token_signed_in_after: stillSignedIn,
    peer_refreshes_2min_20s_token: peerDelta.presented,
    peer_refreshes_2min_20s_token_reused: peerDelta.reuse,
  };
};

// Lighthouse's mobile profile: CPU 4× slower, 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up.
const NETWORK = { offline: false, latency: 150, downloadThroughput: (1638.4 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

/** Records in the page when the profile appears and how long the wasm's instantiation ran after its download. */
const COLD_LOAD_PROBE = () => {
  window.__bench = {};
  const original = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (...args) => {
    const result = await original.apply(WebAssembly, args);
    window.__bench.instantiatedAt = performance.now();
    return result;
  };
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-testid="profile-name"]')) {
      window.__bench.profileAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
};

const coldLoad = async (browser) => {
  log(`cold load of /profile with a stored session (CPU 4×, 150 ms RTT, 1.6 Mbit/s), ${RUNS} runs`);
  // The app's own client and config, so that no request goes through Playwright's interception (it would skip the
  // emulated network); its 300 s tokens stay fresh for the whole measurement.
  const { context, page } = await appSignedIn(browser, undefined, '/profile');
  await page.getByTestId('profile-name').waitFor({ state: 'visible' });
  await context.addInitScript(COLD_LOAD_PROBE);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', NETWORK);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).origin));
  const loads = []; const tails = []; const idp = []; const api = []; const wasmBytes = [];
  const once = async () => {
    requests.length = 0;
    await page.goto(`${APP}/profile`);
    await page.waitForFunction(() => window.__bench?.profileAt, undefined, { timeout: 60_000 });
    const probe = await page.evaluate(() => {
      const wasm = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
      return { ...window.__bench, wasmEnd: wasm?.responseEnd, wasmBytes: wasm?.encodedBodySize };
    });
    return { probe, idp: requests.filter((o) => o === IDP).length, api: requests.filter((o) => o === API).length };
  };
  await once(); // warm-up: the server compresses each file once
  for (let i = 0; i < RUNS; i += 1) {
    const { probe, idp: i1, api: a1 } = await once();
    loads.push(probe.profileAt);
    tails.push(probe.instantiatedAt - probe.wasmEnd);
    wasmBytes.push(probe.wasmBytes);
    idp.push(i1);
    api.push(a1);
  }
  // The wasm's compile time alone, on the same slowed CPU: the module compiled from bytes already downloaded.
  const compile = [];
  for (let i = 0; i < RUNS; i += 1) {
    compile.push(await page.evaluate(async () => {
      const url = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm')).name;
      const bytes = await (await fetch(url)).arrayBuffer();
      const start = performance.now();
      await WebAssembly.compile(bytes);
      return performance.now() - start;
    }));
  }
  await context.close();
  return {
    cold_load_ms: summary(loads),
    cold_load_idp_requests: Math.max(...idp),
    cold_load_api_requests: Math.max(...api),
    cold_load_wasm_transfer_bytes: Math.max(...wasmBytes),
    cold_load_wasm_after_download_ms: summary(tails),
    wasm_compile_ms: summary(compile),
  };
};

// BENCH_ONLY=per-call,storms,cold-load,refreshes runs some of them (the others keep their last figures, if any).
const PARTS = { 'per-call': perCall, storms, 'cold-load': coldLoad, refreshes: refreshWindow };
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? Object.keys(PARTS);
const unknown = only.filter((p) => !PARTS[p]);
if (unknown.length) throw new Error(`BENCH_ONLY: unknown part(s) ${unknown.join(', ')}; known: ${Object.keys(PARTS).join(', ')}`);
const out = join(repo, 'target', 'bench', 'browser.json');
const previous = only.length < Object.keys(PARTS).length && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
const browser = await launch();
const figures = { ...previous, browser: `Chromium ${browser.version()}`, runs: RUNS };
try {
  for (const part of only) Object.assign(figures, await PARTS[part](browser));
} finally {
  await browser.close();
}
mkdirSync(join(repo, 'target', 'bench'), { recursive: true });
writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
log('written: target/bench/browser.json');
