// Where a wasm's bytes go, per crate: twiggy's per-item sizes of the linked wasm (before wasm-bindgen and wasm-opt,
// with its names), summed by the crate each function or data item belongs to. A trait method is counted for the crate
// of its impl's trait unless that trait is std's or serde's (Drop, Debug, Deserialize…: then the type's crate);
// `drop_in_place<T>` counts for T's crate. Proportions carry over to the optimised build; absolute figures do not.
//
//   node bench/crates.mjs FILE.wasm [TOP=20]    prints the table; with --json OUT also writes it

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
const top = Number(rest.find((a) => /^\d+$/.test(a)) ?? 20);
const jsonOut = rest.includes('--json') ? rest[rest.indexOf('--json') + 1] : undefined;

const GENERIC_HOSTS = new Set(['core', 'alloc', 'std', 'serde_core', 'serde']);
const crateOf = (name) => {
  let n = name.replace(/^core::ptr::drop_in_place<(.*)>.*$/, '$1').replace(/^&(mut )?/, '');
  const asTrait = n.match(/^<(.+?) as ([a-z_][a-z0-9_]*)(\[[0-9a-f]+\])?::/);
  if (asTrait) {
    const traitCrate = asTrait[2].replace(/\[[0-9a-f]+\]$/, '');
    if (!GENERIC_HOSTS.has(traitCrate)) return traitCrate;
    n = asTrait[1].replace(/^(&(mut )?|dyn |\*(const|mut) |\[|\(|<)+/, '');
  }
  const m = n.replace(/^(&(mut )?|dyn |\*(const|mut) |\[|\(|<)+/, '').match(/^([a-z_][a-z0-9_]*)(\[[0-9a-f]+\])?::/);
  return m ? m[1] : undefined;
};

const csv = execFileSync('twiggy', ['top', '-n', '1000000', '--format', 'csv', file], { maxBuffer: 1 << 28 }).toString();
const totals = new Map();
let counted = 0;
for (const line of csv.split('\n').slice(1)) {
  // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent (names may hold commas and quotes: split
  // from the right)
  const parts = line.split(',');
  if (parts.length < 5) continue;
  const size = Number(parts.at(-4));
  const name = parts.slice(0, -4).join(',').replace(/^"|"$/g, '').replace(/""/g, '"');
  // Sections, exports and imports (entries, not code), and wasm-bindgen's describe functions (gone from the
  // shipped wasm) are left out.
  if (name.startsWith('custom section') || name.includes('subsection') || name.startsWith('__wbindgen_describe')
    || name.startsWith('export ') || name.startsWith('import ')) continue;
  const crate = name.startsWith('data segment') ? '(data: strings, tables)' : crateOf(name) ?? '(other: wasm-bindgen, imports, unnamed)';
  totals.set(crate, (totals.get(crate) ?? 0) + size);
  counted += size;
}
const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]);
console.log(`      ${'crate'.padEnd(40)} ${'bytes'.padStart(9)} ${'share'.padStart(7)}   (code and data of ${file.split('/').at(-1)}, before wasm-opt)`);
for (const [crate, size] of rows.slice(0, top)) {
  console.log(`      ${crate.padEnd(40)} ${String(size).padStart(9)} ${`${((size / counted) * 100).toFixed(1)}%`.padStart(7)}`);
}
const restSize = rows.slice(top).reduce((n, [, s]) => n + s, 0);
console.log(`      ${`${rows.length - Math.min(top, rows.length)} more crates`.padEnd(40)} ${String(restSize).padStart(9)}`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`);
