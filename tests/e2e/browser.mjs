// Shared helpers for the end-to-end tests: a headless system Chromium (never a downloaded browser),
// a fresh context per test, console/page-error capture, screenshots into artifacts/.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

export const APP = process.env.APP_URL ?? 'http://127.0.0.1:8080';
export const IDP = process.env.IDP_URL ?? 'http://127.0.0.1:9000';
export const API = process.env.API_URL ?? 'http://127.0.0.1:9001';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(REPO, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches one browser for the test file and closes it afterwards. Returns a getter. */
export const useBrowser = () => {
  let browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
};

/**
 * Records the Content-Security-Policy violations of every page of `context` (Chromium reports each one on the
 * console: "Refused to … because it violates the following Content Security Policy directive …"), on the app's
 * pages and the IdP's alike. Returns the live list of {text, url}.
 */
export const watchCsp = (context) => {
  const violations = [];
  context.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push({ text: msg.text(), url: msg.page()?.url() ?? '' });
  });
  return violations;
};

/** How Chromium words a blocked fetch (it does not always name the directive). */
export const CSP_CONNECT = /Refused to connect|connect-src/;

/** Throws when `violations` holds one that none of the `expected` patterns matches. */
export const assertNoUnexpectedCsp = (violations, expected = []) => {
  const unexpected = violations.filter((v) => !expected.some((pattern) => pattern.test(v.text)));
  if (unexpected.length) {
    throw new Error(`Content-Security-Policy violations:\n${unexpected.map((v) => `  ${v.text} (${v.url})`).join('\n')}`);
  }
};

/**
 * Opens a fresh context and page, recording console messages, page errors and CSP violations.
 * `close()` closes the context and throws if the page reported an uncaught error, or a Content-Security-Policy
 * violation not matched by `options.expectedCsp` (patterns: a test that reaches an unlisted origin on purpose lists
 * the violations it expects).
 */
export const openPage = async (browser, t, { expectedCsp = [] } = {}) => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
  context.setDefaultTimeout(15_000);
  const cspViolations = watchCsp(context);
  const page = await context.newPage();
  const consoleMessages = [];
  const pageErrors = [];
  page.on('console', (msg) => consoleMessages.push({ type: msg.type(), text: msg.text(), url: page.url() }));
  page.on('pageerror', (err) => pageErrors.push(err));
  const close = async () => {
    if (pageErrors.length) {
      await screenshot(page, `${slug(t?.name ?? 'page')}-error`).catch(() => {});
    }
    await context.close();
    if (pageErrors.length) {
      const errors = consoleMessages.filter((m) => m.type === 'error').slice(-5).map((m) => `  console: ${m.text} (${m.url})`);
      throw new Error(`page errors:\n${[...pageErrors.map((e) => `  ${e.stack ?? e}`), ...errors].join('\n')}`);
    }
    assertNoUnexpectedCsp(cspViolations, expectedCsp);
  };
  return { context, page, consoleMessages, pageErrors, cspViolations, close };
};

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Saves a full-page screenshot to artifacts/<name>.png and returns its path. */
export const screenshot = async (page, name) => {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
};

/** True when `url` is on the IdP's login page. */
export const isLoginPage = (url) => url.startsWith(`${IDP}/interaction/`);

/** Waits for the IdP login form, fills it in and submits it. */
export const signInAtIdp = async (page, { username, password }) => {
  await page.waitForURL((url) => isLoginPage(url.href));
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
};

export const ALICE = { username: 'alice', password: 'alice', name: 'Alice Example' };
export const BOB = { username: 'bob', password: 'bob', name: 'Bob Example' };

/** The IdP's counters (GET /test/stats, TEST_ROUTES=1): token requests per grant, revocations, end sessions. */
export const idpStats = async () => {
  const res = await fetch(`${IDP}/test/stats`);
  if (!res.ok) throw new Error(`GET /test/stats answered HTTP ${res.status} (is the stack running with TEST_ROUTES=1?)`);
  return res.json();
};

/** Signs in from the home page through the real IdP form and waits for the signed-in header. */
export const signInFromHome = async (page, user = ALICE) => {
  await page.goto(`${APP}/`);
  await page.getByTestId('sign-in').click();
  await signInAtIdp(page, user);
  await page.waitForURL((url) => url.origin === APP && url.pathname === '/');
  await page.getByTestId('user-name').waitFor({ state: 'visible' });
};

/** The parsed `oten.auth.tokens` from the page's sessionStorage, or null. */
export const storedTokens = async (page) => {
  const raw = await page.evaluate(() => sessionStorage.getItem('oten.auth.tokens'));
  return raw === null ? null : JSON.parse(raw);
};

// ---- Test clients, faults and counters of the dev stack (TEST_ROUTES=1), scoped to one test ----

/** Calls a /test/* route of the IdP with an optional JSON body and returns the parsed answer (throws on non-2xx). */
export const testRoute = async (method, path, body) => {
  const res = await fetch(`${IDP}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered HTTP ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
};

/** Leases a test client of its own (`access_token_ttl` in seconds) and returns its id. */
export const leaseClient = async (settings = {}) => (await testRoute('POST', '/test/clients', settings)).client_id;

/** The per-client counters: token requests, refresh presentations per token, reuse, revocations, API statuses. */
export const clientStats = (clientId) => testRoute('GET', `/test/clients/${clientId}/stats`);

/** Queues a fault at the IdP for this client (see dev/faults.mjs). */
export const addFault = (clientId, fault) => testRoute('POST', `/test/clients/${clientId}/faults`, fault);

/** Makes the API refuse (or accept again) every token of this client. */
export const refuseAtApi = (clientId, refuse) => testRoute('POST', `/test/clients/${clientId}/api`, { refuse });

/** Sets the oldest sign-in (seconds) the API's step-up route accepts from this client's tokens (null: default). */
export const stepUpMaxAge = (clientId, seconds) => testRoute('POST', `/test/clients/${clientId}/api`, { step_up_max_age: seconds });

/**
 * Serves the app's /config.json with `overrides` of its library settings (the `auth` section: its own client_id, a
 * short request timeout…) to every
 * page of `context`, including pages opened later and with window.open.
 */
export const useAppConfig = async (context, overrides) => {
  const base = JSON.parse(readFileSync(join(REPO, 'public', 'config.json'), 'utf8'));
  const body = JSON.stringify({ ...base, auth: { ...base.auth, ...overrides } });
  await context.route(`${APP}/config.json`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
};

/**
 * "Duplicate tab": a new page of the same context whose sessionStorage is a copy of `page`'s (as Chrome's
 * Duplicate tab and window.open without noopener make), then opened at `path`.
 */
export const duplicateTab = async (context, page, path = '/') => {
  const copy = await sessionStorageOf(page);
  const dup = await context.newPage();
  await replaceSessionStorage(dup, copy);
  await dup.goto(`${APP}${path}`);
  return dup;
};

/** Everything in `page`'s sessionStorage, key → value. */
export const sessionStorageOf = (page) => page.evaluate(
  () => Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)])),
);

/**
 * Replaces this origin's sessionStorage in `page` with `items`, from a document of the origin that is not the app
 * (nothing of the app runs meanwhile); the caller then opens the app.
 */
export const replaceSessionStorage = async (page, items) => {
  await page.goto(`${APP}/config.json`);
  await page.evaluate((all) => {
    sessionStorage.clear();
    for (const [k, v] of Object.entries(all)) sessionStorage.setItem(k, v);
  }, items);
};

/** `openPage` on a test client of its own (`leaseClient(settings)`) served as the app's client_id. */
export const openLeasedPage = async (browser, t, settings = {}, options = {}) => {
  const clientId = await leaseClient(settings);
  const opened = await openPage(browser, t, options);
  await useAppConfig(opened.context, { client_id: clientId });
  return { ...opened, clientId };
};

/** Records the token-endpoint requests a page sends (grant types, in order). */
export const recordTokenRequests = (page) => {
  const seen = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url() === `${IDP}/v1/oauth/token`) {
      seen.push(new URLSearchParams(r.postData() ?? '').get('grant_type'));
    }
  });
  return seen;
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * After an API refused the session: /login says why and waits for a click (no sign-in starts by itself); one click
 * signs in again, the refusal comes back, and the app explains instead of looping. `authorizations` is
 * {@link recordAuthorizations}' list, holding the first sign-in.
 */
export const expectRefusedSessionNotToLoop = async (page, authorizations) => {
  await page.getByTestId('session-ended').waitFor();
  assert.match(await page.getByTestId('session-ended-reason').innerText(), /refused your session/i);
  await sleep(1_500);
  assert.equal(authorizations.length, 1, 'no sign-in started by itself');
  await page.getByTestId('sign-in-again').click();
  await page.getByTestId('session-ended-again').waitFor({ timeout: 15_000 });
  assert.equal(authorizations.length, 2, 'one sign-in attempt after the first refusal');
  await page.getByTestId('sign-out-instead').waitFor();
  await page.getByTestId('try-again').waitFor();
  await sleep(3_000);
  assert.equal(authorizations.length, 2, 'no loop');
};

/** Polls `check` (an async function) every 100 ms until it returns a truthy value or `ms` pass. */
export const eventually = async (check, ms = 10_000, what = 'condition') => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
};

/**
 * A Chromium that can really freeze pages. Playwright's own launch turns on focus emulation, which keeps every
 * page "visible" and makes Page.setWebLifecycleState a silent no-op; so this starts Chromium itself and attaches
 * over CDP without Playwright's defaults. Returns the browser and its default context.
 */
export const launchFreezable = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oten-e2e-'));
  const proc = spawn(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', [
    ...CHROMIUM_ARGS, '--headless', '--remote-debugging-port=0', `--user-data-dir=${dir}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ws = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${buf}`)), 15_000);
    proc.stderr.on('data', (d) => {
      buf += d;
      const m = buf.match(/DevTools listening on (ws:\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  const browser = await chromium.connectOverCDP(ws, { noDefaults: true });
  const context = browser.contexts()[0];
  context.setDefaultTimeout(15_000);
  const cspViolations = watchCsp(context);
  const close = async () => {
    await browser.close().catch(() => {});
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill();
    await exited;
    // Chromium's helper processes may still be writing for a moment: best effort, it is a temporary folder.
    await sleep(300);
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); } catch { /* left in tmp */ }
    assertNoUnexpectedCsp(cspViolations);
  };
  return { browser, context, close };
};

/** Freezes a page (Chrome DevTools Protocol, Page.setWebLifecycleState): no timers, no tasks, locks kept. */
export const freeze = async (page) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  return cdp;
};

/** Thaws a page frozen with `freeze`. */
export const thaw = async (cdp) => cdp.send('Page.setWebLifecycleState', { state: 'active' });

/**
 * Records the sign-ins a page starts: requests to the IdP's authorization endpoint itself (not its resume URLs
 * under it). The IdP's hops are redirects, so no page commits there: requests are what shows them.
 */
export const recordAuthorizations = (page) => {
  const seen = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin === IDP && url.pathname === '/v1/oauth/authorize') seen.push(r.url());
  });
  return seen;
};

/**
 * Clicks a button by its test id from inside the page. Playwright's own click goes through the input pipeline,
 * which a tab that is not in front serves only at its next frame (seconds, in headless Chromium); a person clicks
 * in the tab in front, and several tabs here click in parallel.
 */
export const press = (page, testId) => page.evaluate((id) => {
  const button = document.querySelector(`[data-testid="${id}"]`);
  if (!button) throw new Error(`no [data-testid="${id}"] on ${location.pathname}`);
  button.click();
}, testId);

/**
 * Clicks "Sign out" in the app (the header's, or the button with test id `button`) and confirms at the IdP: the default sign-out is a GET to the end-session endpoint
 * without a token, so the IdP asks the person to confirm.
 */
export const signOutAndConfirm = async (page, button = 'sign-out') => {
  await page.getByTestId(button).click();
  await page.waitForURL((url) => url.href.startsWith(`${IDP}/v1/oauth/logout`));
  await page.getByTestId('idp-logout-confirm').click();
  await page.waitForURL((url) => url.origin === APP && url.pathname === '/signed-out');
};

/**
 * SECURITY.md #7 and #9: watches everything a context's pages do for the tokens they receive. Every token the IdP's
 * token endpoint answers is collected; `check(page)` then fails when one of them is in a URL (a request or a
 * navigation), a console message, a request header other than the API's Authorization, a request body other than the
 * IdP's token and revocation endpoints', localStorage, document.cookie or IndexedDB. Call `check` at several points
 * (storage is looked at when it is called); it returns how many tokens it looked for.
 */
export const watchTokens = (context) => {
  const tokens = new Set();
  const pending = [];
  const requests = [];
  const consoleTexts = [];
  const navigations = [];
  context.on('request', (r) => {
    requests.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postData() ?? '' });
    if (r.frame() === r.frame().page()?.mainFrame() && r.isNavigationRequest()) navigations.push(r.url());
  });
  context.on('response', (res) => {
    const url = new URL(res.url());
    if (url.origin !== IDP || url.pathname !== '/v1/oauth/token' || res.request().method() !== 'POST') return;
    pending.push(res.json().then((body) => {
      for (const key of ['access_token', 'refresh_token', 'id_token']) if (typeof body[key] === 'string') tokens.add(body[key]);
    }).catch(() => {}));
  });
  context.on('console', (msg) => consoleTexts.push(msg.text()));
  const check = async (page) => {
    await Promise.all(pending);
    const list = [...tokens].filter((t) => t.length >= 16);
    assert.ok(list.length > 0, 'the watch saw tokens to look for');
    const holds = (text) => list.some((t) => String(text).includes(t));
    for (const r of requests) {
      const { origin, pathname } = new URL(r.url);
      assert.ok(!holds(r.url), `a token in the URL of ${r.method} ${origin}${pathname}`);
      for (const [name, value] of Object.entries(r.headers)) {
        if (holds(value)) {
          assert.ok(origin === API && name === 'authorization', `a token in the ${name} header of a request to ${origin}${pathname}`);
        }
      }
      if (holds(r.body)) {
        assert.ok(origin === IDP && ['/v1/oauth/token', '/v1/oauth/revoke'].includes(pathname),
          `a token in the body of ${r.method} ${origin}${pathname}`);
      }
    }
    for (const url of navigations) assert.ok(!holds(url), 'a token in a navigated URL (the history)');
    const redact = (text) => list.reduce((t, token) => t.replaceAll(token, '[token]'), String(text));
    for (const text of consoleTexts) assert.ok(!holds(text), `a token in a console message: ${redact(text).slice(0, 120)}`);
    if (new URL(page.url()).origin === APP) {
      const stored = await page.evaluate(async () => {
        const idb = [];
        for (const { name } of await indexedDB.databases()) {
          const db = await new Promise((resolve, reject) => {
            const open = indexedDB.open(name);
            open.onsuccess = () => resolve(open.result);
            open.onerror = () => reject(open.error);
          });
          for (const store of db.objectStoreNames) {
            const rows = await new Promise((resolve) => {
              const req = db.transaction(store).objectStore(store).getAll();
              req.onsuccess = () => resolve(req.result);
              req.onerror = () => resolve([]);
            });
            idb.push(JSON.stringify(rows));
          }
          db.close();
        }
        return {
          local: JSON.stringify(Object.entries(localStorage)),
          cookie: document.cookie,
          idb,
          session: JSON.stringify(Object.entries(sessionStorage)),
        };
      });
      assert.ok(!holds(stored.local), 'a token in localStorage');
      assert.ok(!holds(stored.cookie), 'a token in document.cookie');
      for (const rows of stored.idb) assert.ok(!holds(rows), 'a token in IndexedDB');
      return { looked_for: list.length, in_session_storage: holds(stored.session) };
    }
    return { looked_for: list.length, in_session_storage: false };
  };
  return { check, requests };
};

/**
 * Whether the IdP still holds these tokens and whether they are bound to a DPoP key (POST /test/tokens, the tokens
 * in the body): checks a revocation without using a token the test cannot prove possession of.
 */
export const tokenState = (tokens) => testRoute('POST', '/test/tokens', {
  access_token: tokens.access_token, refresh_token: tokens.refresh_token ?? undefined,
});
