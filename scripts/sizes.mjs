// Sizes of what a first visit downloads: each file raw, gzip -9 and brotli -q 11, and the totals.
//
//   node scripts/sizes.mjs DIST                     prints the table
//   node scripts/sizes.mjs DIST --json OUT          also writes the figures to OUT
//   node scripts/sizes.mjs DIST --budget FILE       fails (exit 1) when dist_total_gzip_bytes exceeds the budget
//
// A first visit downloads index.html, its script, its wasm, its stylesheet and config.json (not config.examples/).

import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const FIRST_VISIT = /^(index\.html|config\.json|.+\.(js|wasm|css))$/;

/** Raw, gzip -9 and brotli -q 11 bytes of a buffer. */
export const measure = (data) => ({
  raw: data.length,
  gzip: gzipSync(data, { level: 9 }).length,
  brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

/** Per-file sizes of a dist folder's first-visit files, and their totals. */
export const distSizes = (dir) => {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && FIRST_VISIT.test(e.name))
    .map((e) => e.name)
    .sort();
  const perFile = Object.fromEntries(files.map((f) => [f, measure(readFileSync(join(dir, f)))]));
  const sum = (k) => Object.values(perFile).reduce((n, s) => n + s[k], 0);
  return {
    files: perFile,
    dist_total_raw_bytes: sum('raw'),
    dist_total_gzip_bytes: sum('gzip'),
    dist_total_brotli_bytes: sum('brotli'),
  };
};

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(10);

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, ...rest] = process.argv.slice(2);
  const option = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
  const sizes = distSizes(dir);
  for (const [f, s] of Object.entries(sizes.files)) {
    console.log(`      ${f.padEnd(40)} raw ${kib(s.raw)}  gzip ${kib(s.gzip)}  brotli ${kib(s.brotli)}`);
  }
  console.log(`      ${'total (first visit)'.padEnd(40)} raw ${kib(sizes.dist_total_raw_bytes)}  gzip ${kib(sizes.dist_total_gzip_bytes)}  brotli ${kib(sizes.dist_total_brotli_bytes)}`
    + `  (${sizes.dist_total_gzip_bytes} / ${sizes.dist_total_brotli_bytes} bytes)`);
  const out = option('--json');
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(sizes, null, 2)}\n`);
  }
  const budgetFile = option('--budget');
  if (budgetFile) {
    const budget = JSON.parse(readFileSync(budgetFile, 'utf8')).dist_total_gzip_bytes;
    if (!Number.isInteger(budget)) throw new Error(`${budgetFile}: dist_total_gzip_bytes must be an integer`);
    if (sizes.dist_total_gzip_bytes > budget) {
      console.error(`error: the first visit is ${sizes.dist_total_gzip_bytes} bytes gzip, over the budget of ${budget} `
        + `in ${budgetFile} by ${sizes.dist_total_gzip_bytes - budget}. Cut it, or raise the budget in the commit that `
        + 'adds the feature, stating the growth and its cause in its body.');
      process.exit(1);
    }
    console.log(`      within the budget: ${sizes.dist_total_gzip_bytes} <= ${budget} bytes gzip (${budgetFile})`);
  }
}
