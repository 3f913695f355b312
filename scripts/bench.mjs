// scripts/bench's figures that need no browser, and its table.
//
//   node scripts/bench.mjs REPO sizes   the release build's first-visit sizes, the library's own cost (examples/minimal
//                                       with and without auth, built by scripts/bench), and the peers' bundles built in
//                                       the same run (esbuild, minified, from bench/node_modules) → target/bench/sizes.json;
//                                       also bundles bench/peers/oidc-client-ts-bench.mjs for the browser runs
//   node scripts/bench.mjs REPO table   prints one table of sizes.json and browser.json (bench/browser.mjs) and writes
//                                       both to target/bench/latest.json
//
// Sizes are deterministic (one build, measured once); timings are medians over runs, shown with min and max.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { distSizes, measure } from './sizes.mjs';

const [repo, mode] = process.argv.slice(2);
const bench = join(repo, 'bench');
const target = join(repo, 'target', 'bench');
mkdirSync(target, { recursive: true });

/** Bundles and minifies a peer entry (bench/peers/NAME.mjs) for the browser into bench/out/NAME.js. */
const bundle = (name) => {
  const file = join(bench, 'out', `${name}.js`);
  execFileSync(join(bench, 'node_modules', '.bin', 'esbuild'), [
    join(bench, 'peers', `${name}.mjs`), '--bundle', '--minify', '--format=esm', '--target=es2020',
    '--platform=browser', `--outfile=${file}`, '--log-level=warning',
  ], { stdio: 'inherit' });
  return file;
};

/** A peer's bundle and its sizes. */
const peer = (name, pkg) => {
  const file = bundle(name);
  const { version } = JSON.parse(readFileSync(join(bench, 'node_modules', pkg, 'package.json'), 'utf8'));
  return { package: `${pkg}@${version}`, ...measure(readFileSync(file)) };
};

const sizes = () => {
  const app = distSizes(join(repo, 'dist'));
  const minimal = distSizes(join(target, 'minimal-dist'));
  const baseline = distSizes(join(target, 'baseline-dist'));
  const unstableFile = join(target, 'unstable.json');
  const unstable = existsSync(unstableFile) ? JSON.parse(readFileSync(unstableFile, 'utf8')).unstable_flags_wasm : undefined;
  const wasmOf = (sizes) => Object.entries(sizes.files).find(([f]) => f.endsWith('.wasm'))[1];
  const figures = {
    ...app,
    goal_total_gzip_bytes: 80_000,
    goal_total_brotli_bytes: 70_000,
    oten_react_sample_total_gzip_bytes: 80_632,
    oten_react_sample_total_brotli_bytes: 70_031,
    minimal_total_gzip_bytes: minimal.dist_total_gzip_bytes,
    minimal_total_brotli_bytes: minimal.dist_total_brotli_bytes,
    minimal_without_auth_total_gzip_bytes: baseline.dist_total_gzip_bytes,
    minimal_without_auth_total_brotli_bytes: baseline.dist_total_brotli_bytes,
    library_gzip_bytes: minimal.dist_total_gzip_bytes - baseline.dist_total_gzip_bytes,
    library_brotli_bytes: minimal.dist_total_brotli_bytes - baseline.dist_total_brotli_bytes,
    ...(unstable ? {
      unstable_flags_total_gzip_bytes: app.dist_total_gzip_bytes - wasmOf(app).gzip + unstable.gzip,
      unstable_flags_total_brotli_bytes: app.dist_total_brotli_bytes - wasmOf(app).brotli + unstable.brotli,
    } : {}),
    peers: {
      'oidc-client-ts': peer('oidc-client-ts', 'oidc-client-ts'),
      'auth0-spa-js': peer('auth0-spa-js', '@auth0/auth0-spa-js'),
    },
  };
  writeFileSync(join(target, 'sizes.json'), `${JSON.stringify(figures, null, 2)}\n`);
  bundle('oidc-client-ts-bench'); // what bench/browser.mjs drives, served at /bench/
  console.log(`    app first visit ${figures.dist_total_gzip_bytes} B gzip; library ${figures.library_gzip_bytes} B gzip`);
};

const pad = (v, n = 10) => String(v ?? '').padStart(n);
const row = (name, ...cells) => console.log(`  ${name.padEnd(58)}${cells.map((c) => pad(c)).join('')}`);
/** A timing summary as "median (min–max)". */
const timing = (s, digits = 0) => (s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : 'n/a');
const timed = (name, s, unit, digits) => console.log(`  ${name.padEnd(58)}${timing(s, digits).padStart(24)} ${unit}`);
const count = (name, v, note = '') => console.log(`  ${name.padEnd(58)}${pad(v, 24)} ${note}`);

/**
 * latest.json keeps every timing K as plain numbers: K and K_median (the median), K_min, K_max and K_runs, so
 * `lookup_ns_median` or `cold_load_ms` read directly.
 */
const flatten = (figures) => Object.fromEntries(Object.entries(figures).flatMap(([key, value]) => {
  if (value === null || typeof value !== 'object' || !('median' in value)) return [[key, value]];
  return [[key, value.median], [`${key}_median`, value.median], [`${key}_min`, value.min], [`${key}_max`, value.max],
    [`${key}_runs`, value.runs]];
}));

const table = () => {
  const s = JSON.parse(readFileSync(join(target, 'sizes.json'), 'utf8'));
  const browserFile = join(target, 'browser.json');
  const b = existsSync(browserFile) ? JSON.parse(readFileSync(browserFile, 'utf8')) : {};
  const figures = {
    measured_at: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
    ...s,
    ...flatten(b),
  };
  writeFileSync(join(target, 'latest.json'), `${JSON.stringify(figures, null, 2)}\n`);

  console.log(`  measured ${figures.measured_at} on ${figures.machine}${b.browser ? `, ${b.browser}` : ''}`);
  console.log('');
  row('size, bytes', 'raw', 'gzip -9', 'brotli 11');
  for (const [f, v] of Object.entries(s.files)) row(f, v.raw, v.gzip, v.brotli);
  row('app, first visit (dist_total_*)', s.dist_total_raw_bytes, s.dist_total_gzip_bytes, s.dist_total_brotli_bytes);
  if (s.unstable_flags_total_gzip_bytes) {
    row('app with -Zlocation-detail=none -Zfmt-debug=none', '', s.unstable_flags_total_gzip_bytes, s.unstable_flags_total_brotli_bytes);
  }
  row('goal', '', s.goal_total_gzip_bytes, s.goal_total_brotli_bytes);
  row("Oten's React + oidc-client-ts sample, total", '', s.oten_react_sample_total_gzip_bytes, s.oten_react_sample_total_brotli_bytes);
  row('examples/minimal, first visit', '', s.minimal_total_gzip_bytes, s.minimal_total_brotli_bytes);
  row('examples/minimal without auth calls', '', s.minimal_without_auth_total_gzip_bytes, s.minimal_without_auth_total_brotli_bytes);
  row('library alone (library_gzip_bytes: the difference)', '', s.library_gzip_bytes, s.library_brotli_bytes);
  for (const p of Object.values(s.peers)) row(`peer library alone: ${p.package}`, p.raw, p.gzip, p.brotli);
  if (!b.browser) {
    console.log('\n  (no browser figures: target/bench/browser.json is missing)');
    return;
  }
  console.log('');
  console.log(`  ${'speed'.padEnd(58)}${'median (min–max)'.padStart(24)}   (timer: ${b.timer_isolated ? '5 µs, cross-origin isolated' : '100 µs'})`);
  timed('valid token, 10,000 sequential, inside the wasm (lookup_ns)', b.lookup_ns, 'ns/call');
  timed('valid token, 1,000 concurrent, inside the wasm', b.lookup_concurrent_ns, 'ns/call');
  timed('valid token, 10,000 sequential, from JS (lookup_js_ns)', b.lookup_js_ns, 'ns/call');
  timed('valid token, 1,000 concurrent, from JS', b.lookup_js_concurrent_ns, 'ns/call');
  timed('valid token, 10,000 sequential, from JS, string made each call', b.lookup_js_uncached_ns, 'ns/call');
  timed('valid token, 10,000 sequential, from JS, always a promise', b.lookup_js_async_ns, 'ns/call');
  timed('peer: oidc-client-ts getUser(), 10,000 sequential', b.peer_getuser_ns, 'ns/call');
  timed('peer: oidc-client-ts getUser(), 1,000 concurrent', b.peer_getuser_concurrent_ns, 'ns/call');
  count('  from JS vs getUser() (target ≥ 10×)', `${b.lookup_js_speedup_vs_getuser}×`);
  timed('one refresh round trip', b.refresh_round_trip_ms, 'ms', 1);
  timed('storm: 1,000 callers, expired token', b.storm_expired_ms, 'ms', 1);
  count('  refresh tokens presented (storm_expired_token_posts)', b.storm_expired_token_posts, 'most in a run (target 1)');
  timed('1,000 API requests with a valid token (for comparison)', b.api_1000_valid_token_ms, 'ms', 1);
  timed('storm: 1,000 API requests answered 401', b.storm_401_ms, 'ms', 1);
  count('  refresh tokens presented (storm_401_token_posts)', b.storm_401_token_posts, 'most in a run (target 1)');
  count('  refresh tokens reused (storm_reused_refresh_tokens)', b.storm_reused_refresh_tokens, '(target 0)');
  count('  calls that failed (expired / 401 storm)', `${b.storm_expired_failed_calls} / ${b.storm_401_failed_calls}`);
  timed('peer storm: 1,000 × oidc-client-ts signinSilent()', b.peer_storm_signinsilent_ms, 'ms', 1);
  timed('  peer: refresh tokens presented', b.peer_storm_token_posts, '');
  timed('  peer: refused as reused', b.peer_storm_reused_refresh_tokens, '');
  timed('  peer: calls that failed', b.peer_storm_failed_calls, '');
  count(`refreshes in ${b.refresh_window_s} s, 20 s tokens (refreshes_2min_20s_token)`, b.refreshes_2min_20s_token,
    `(floor 6, target ≤ 12; reused ${b.refreshes_2min_20s_token_reused}; signed in after: ${b.refreshes_2min_20s_token_signed_in_after})`);
  count('  peer: oidc-client-ts defaults, same window', b.peer_refreshes_2min_20s_token, `(reused ${b.peer_refreshes_2min_20s_token_reused})`);
  timed('cold load of /profile, CPU 4×, 150 ms RTT, 1.6 Mbit/s (cold_load_ms)', b.cold_load_ms, 'ms');
  count('  requests to the IdP / to the API', `${b.cold_load_idp_requests} / ${b.cold_load_api_requests}`, '(target 0 / 1)');
  count('  wasm transferred (brotli)', b.cold_load_wasm_transfer_bytes, 'bytes');
  timed('  wasm compile + instantiate after its download', b.cold_load_wasm_after_download_ms, 'ms');
  timed('  wasm compile alone (WebAssembly.compile; off the main thread, so not slowed)', b.wasm_compile_ms, 'ms');
  console.log(`\n  written: ${join(target, 'latest.json')}`);
};

if (mode === 'sizes') sizes();
else if (mode === 'table') table();
else throw new Error('usage: node scripts/bench.mjs REPO sizes|table');
