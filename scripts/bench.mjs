// scripts/bench's measurements that need no browser: the release build's first-visit sizes, and the peers' bundles
// built in the same run (esbuild, minified, from bench/node_modules). Prints one table and writes the figures to
// target/bench/latest.json.  Usage: node scripts/bench.mjs REPO

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { distSizes, measure } from './sizes.mjs';

const repo = process.argv[2];
const bench = join(repo, 'bench');
const out = join(bench, 'out');
mkdirSync(out, { recursive: true });

/** A peer's bundle: its entry (bench/peers/NAME.mjs) bundled and minified for the browser. */
const peer = (name) => {
  const file = join(out, `${name}.js`);
  execFileSync(join(bench, 'node_modules', '.bin', 'esbuild'), [
    join(bench, 'peers', `${name}.mjs`), '--bundle', '--minify', '--format=esm', '--target=es2020',
    '--platform=browser', `--outfile=${file}`, '--log-level=warning',
  ], { stdio: 'inherit' });
  const version = (pkg) => JSON.parse(readFileSync(join(bench, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  const pkg = name === 'oidc-client-ts' ? 'oidc-client-ts' : '@auth0/auth0-spa-js';
  return { package: `${pkg}@${version(pkg)}`, ...measure(readFileSync(file)) };
};

const app = distSizes(join(repo, 'dist'));
const peers = { 'oidc-client-ts': peer('oidc-client-ts'), 'auth0-spa-js': peer('auth0-spa-js') };
const figures = {
  measured_at: new Date().toISOString(),
  machine: `${process.platform} ${process.arch}, node ${process.version}`,
  ...app,
  goal_total_gzip_bytes: 80_000,
  goal_total_brotli_bytes: 70_000,
  oten_react_sample_total_gzip_bytes: 80_632,
  oten_react_sample_total_brotli_bytes: 70_031,
  peers,
};

const row = (name, s) => `  ${name.padEnd(44)} ${String(s.raw).padStart(9)} ${String(s.gzip).padStart(9)} ${String(s.brotli).padStart(9)}`;
console.log(`  ${'bytes'.padEnd(44)} ${'raw'.padStart(9)} ${'gzip -9'.padStart(9)} ${'brotli 11'.padStart(9)}`);
for (const [f, s] of Object.entries(app.files)) console.log(row(f, s));
console.log(row('app, first visit (dist_total_*)', {
  raw: app.dist_total_raw_bytes, gzip: app.dist_total_gzip_bytes, brotli: app.dist_total_brotli_bytes,
}));
console.log(row('goal', { raw: '', gzip: 80_000, brotli: 70_000 }));
console.log(row("Oten's React + oidc-client-ts sample, total", { raw: '', gzip: 80_632, brotli: 70_031 }));
for (const [name, s] of Object.entries(peers)) console.log(row(`peer library alone: ${s.package}`, s));
const file = join(repo, 'target', 'bench', 'latest.json');
mkdirSync(join(repo, 'target', 'bench'), { recursive: true });
writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
console.log(`  written: ${file}`);
