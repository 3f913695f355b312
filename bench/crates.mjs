// Where a wasm's bytes go, per crate: twiggy's per-item sizes of a wasm that kept its function names (scripts/bench
// gives it the shipped build optimised again with `wasm-opt -Oz -g`), summed by the crate each function or data item
// belongs to. A trait method is counted for the crate
// of its impl's trait unless that trait is std's or serde's (Drop, Debug, Deserialize…: then the type's crate);
// `drop_in_place<T>` counts for T's crate. Also prints the same bytes by kind (ours, Leptos, serde, drop glue, data…).
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
const KINDS = [
  ['drop glue', /drop_in_place/],
  ['Debug/Display impls', /fmt::(Debug|Display)>::fmt/],
  ['formatting machinery', /(core|alloc)(\[\w+\])?::fmt|format_inner|ToString/],
  ['panics', /panic/],
  ['serde and serde_json (with derives)', /serde/],
  ['Leptos (tachys, reactive_graph, router)', /tachys|leptos|reactive_graph|either_of|reactive_stores/],
  ['ours (oten_*)', /oten_/],
  ['allocator', /dlmalloc|__rust_(alloc|dealloc|realloc)/],
  ['collections (hashbrown, indexmap, BTree)', /hashbrown|indexmap|BTree|btree/],
  ['wasm-bindgen, js-sys, web-sys glue', /wasm_bindgen|js_sys|web_sys/],
];
const kinds = new Map();
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
  const kind = name.startsWith('data segment') ? 'data (strings, tables)' : KINDS.find(([, re]) => re.test(name))?.[0] ?? 'other (std, futures…)';
  kinds.set(kind, (kinds.get(kind) ?? 0) + size);
  counted += size;
}
const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]);
console.log(`      ${'crate'.padEnd(40)} ${'bytes'.padStart(9)} ${'share'.padStart(7)}   (code and data of ${file.split('/').at(-1)}, raw)`);
for (const [crate, size] of rows.slice(0, top)) {
  console.log(`      ${crate.padEnd(40)} ${String(size).padStart(9)} ${`${((size / counted) * 100).toFixed(1)}%`.padStart(7)}`);
}
const restSize = rows.slice(top).reduce((n, [, s]) => n + s, 0);
console.log(`      ${`${rows.length - Math.min(top, rows.length)} more crates`.padEnd(40)} ${String(restSize).padStart(9)}`);
const byKind = [...kinds.entries()].sort((a, b) => b[1] - a[1]);
console.log(`      ${'by kind'.padEnd(40)}`);
for (const [kind, size] of byKind) {
  console.log(`      ${kind.padEnd(40)} ${String(size).padStart(9)} ${`${((size / counted) * 100).toFixed(1)}%`.padStart(7)}`);
}
if (jsonOut) {
  writeFileSync(jsonOut, `${JSON.stringify({ by_crate: Object.fromEntries(rows), by_kind: Object.fromEntries(byKind) }, null, 2)}\n`);
}
