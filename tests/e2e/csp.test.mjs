// SECURITY.md #12: the app's documents carry a strict Content-Security-Policy derived from config.json, the app
// works under it (every other test runs under it too and fails on a violation it did not list), and the policy
// really blocks what it claims: injected inline script and handlers, a fetch to an origin config.json does not name, framing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ALICE, API, APP, CSP_CONNECT, IDP, openPage, signInFromHome, useBrowser } from './browser.mjs';

const browser = useBrowser();

/** The directives of a policy as a Map name → sources. */
const directives = (csp) => new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([n, ...v]) => [n, v]));

test('every document of the app carries the policy config.json calls for', async () => {
  for (const path of ['/', '/profile', '/callback?code=x&state=y', '/login?return_to=%2Fsession', '/signed-out']) {
    const res = await fetch(`${APP}${path}`);
    assert.equal(res.status, 200, path);
    const csp = res.headers.get('content-security-policy');
    assert.ok(csp, `${path}: a Content-Security-Policy header`);
    const d = directives(csp);
    assert.deepEqual(d.get('default-src'), ["'self'"], csp);
    assert.deepEqual(d.get('script-src'), ["'self'", "'wasm-unsafe-eval'"], `no inline script, no eval: ${csp}`);
    assert.deepEqual(d.get('style-src'), ["'self'"], csp);
    assert.deepEqual(d.get('connect-src'), ["'self'", IDP, API], `the IdP and the API only: ${csp}`);
    assert.deepEqual(d.get('form-action'), ["'self'", IDP], csp);
    for (const [name, value] of [['base-uri', "'none'"], ['object-src', "'none'"], ['frame-ancestors', "'none'"]]) {
      assert.deepEqual(d.get(name), [value], `${name} in ${csp}`);
    }
    // No eval (DevTools' own evaluation bypasses the policy, so this is checked on the header, not in the page).
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'|\*/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
  }
  const index = await (await fetch(`${APP}/`)).text();
  assert.doesNotMatch(index.replace(/\s+/g, ' '), /<script(\s[^>]*)?>\s*[^<\s]/, 'no inline script in index.html');
});

test('under the policy: signed in, the API answers, the session page draws, no violation', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await signInFromHome(page, ALICE);
    await page.goto(`${APP}/profile`);
    await page.getByTestId('profile-name').waitFor();
    await page.goto(`${APP}/session`);
    await page.getByTestId('claims').waitFor();
  } finally {
    await close(); // fails on any violation
  }
});

test('the policy blocks injected script, unlisted origins and framing', async (t) => {
  const { page, cspViolations, close } = await openPage(browser(), t, {
    expectedCsp: [/script-src/, CSP_CONNECT, /frame-ancestors/],
  });
  try {
    await page.goto(`${APP}/`);
    await page.getByTestId('sign-in').waitFor();

    // An inline script written into the page (what an HTML injection would do) does not run.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.body.append(s);
      const img = document.createElement('img');
      img.setAttribute('src', '/no-such-image.png');
      img.setAttribute('onerror', 'window.__handler = true');
      document.body.append(img);
    });
    // A fetch to an origin config.json does not name never leaves the browser (the exfiltration a token thief needs).
    const fetchOutcome = await page.evaluate(async () => {
      try { await fetch('http://127.0.0.1:9002/echo'); return 'sent'; } catch (e) { return e.name; }
    });
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => window.__injected ?? false), false, 'the inline script did not run');
    assert.equal(await page.evaluate(() => window.__handler ?? false), false, 'the inline handler did not run');
    assert.equal(fetchOutcome, 'TypeError', 'the fetch to an unlisted origin is blocked');

    // Another site cannot frame the app (clickjacking).
    const framer = await page.context().newPage();
    await framer.goto(`${IDP}/.well-known/openid-configuration`);
    await framer.evaluate((app) => {
      const f = document.createElement('iframe');
      f.src = `${app}/`;
      document.body.append(f);
    }, APP);
    await framer.waitForTimeout(1_000);
    const framed = framer.frames().find((f) => f !== framer.mainFrame());
    const framedText = await framed?.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    assert.doesNotMatch(framedText ?? '', /Sign in/, 'the framed app did not render');

    const seen = (re) => cspViolations.some((v) => re.test(v.text));
    assert.ok(seen(/script-src/), `the inline script was reported: ${JSON.stringify(cspViolations)}`);
    assert.ok(seen(/event handler/), 'the inline handler was reported');
    assert.ok(seen(CSP_CONNECT), 'the fetch was reported');
    assert.ok(seen(/frame-ancestors/), 'the framing was reported');
  } finally {
    await close();
  }
});
