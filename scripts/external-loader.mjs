// trunk post_build hook: moves trunk's inline module loader out of index.html into its own file, so the app runs
// under `script-src 'self' 'wasm-unsafe-eval'` with no inline script, no hash and no nonce: the deployment's headers
// depend on config.json only, not on the build.
//
//   <script type="module">import init … </script>
//     → <script type="module" src="/loader-<hash>.js" integrity="sha384-…" crossorigin="anonymous"></script>
//
// trunk's own nonce placeholders (Trunk.toml `create_nonce`, for `trunk serve`'s reload script) are kept only where
// an inline script stays (the reload script `trunk serve` injects); a release build ends with none.
// Runs in trunk's staging folder (TRUNK_STAGING_DIR); fails the build when the loader is not found.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run as a trunk post_build hook');
const publicUrl = (process.env.TRUNK_PUBLIC_URL ?? '/').replace(/\/?$/, '/');
const PLACEHOLDER = ' nonce="{{__TRUNK NONCE__}}"';

const indexPath = join(staging, 'index.html');
let html = readFileSync(indexPath, 'utf8');

const LOADER = /<script type="module"(?: nonce="[^"]*")?>([\s\S]*?)<\/script>/g;
const loaders = [...html.matchAll(LOADER)].filter(([, body]) => /^\s*import init, \* as bindings from /.test(body));
if (loaders.length !== 1) throw new Error(`expected one trunk loader script in ${indexPath}, found ${loaders.length}`);
const [[tag, body]] = loaders;

const code = `${body.trim().replace(/\n\s*\n/g, '\n')}\n`;
const name = `loader-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;
writeFileSync(join(staging, name), code);
const integrity = `sha384-${createHash('sha384').update(code).digest('base64')}`;
html = html.replace(tag, `<script type="module" src="${publicUrl}${name}" integrity="${integrity}" crossorigin="anonymous"></script>`);

// Placeholders on links are dropped; an inline script left (trunk serve's reload script) keeps its own.
html = html.replace(/<link\b[^>]*>/g, (link) => link.replaceAll(PLACEHOLDER, ''));
writeFileSync(indexPath, html);
