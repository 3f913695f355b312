// The same app in the two backend modes: the Rust backend (target/debug/oten-backend, built by the native tests)
// serves the release build and the app's config.json in its own mode, on its own origin. In both modes the person
// signs in through the backend (a confidential client), sees the profile, and signs out; nothing of the session is
// ever kept in the tab's storage. token-mediating: the page holds a short-lived access token in memory and calls
// the API with it; bff: the page holds no token at all and calls the API through the backend.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ALICE, API, IDP, clientStats, openPage, expectRefusedSessionNotToLoop, recordAuthorizations, refuseAtApi, screenshot, signInAtIdp, sleep, testRoute,
  useBrowser,
} from './browser.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The backend's two modes, each on its own port. */
const MODES = [['bff', 9100], ['token-mediating', 9101]];
const BINARY = process.env.OTEN_BACKEND_BIN ?? join(REPO, 'target', 'debug', 'oten-backend');
const SECRET = 'dev-only-secret-of-bff-dev-not-for-production-use-0001';
// A fixed test key (never a real one): kid "e2e", 32 bytes of 7.
const KEYS = `e2e:${Buffer.alloc(32, 7).toString('base64url')}`;

const browser = useBrowser();

/** Starts the backend in `mode` on `port`, serving dist/; returns its origin and a stop function. */
const startBackend = async (mode, port) => {
  const dir = mkdtempSync(join(tmpdir(), 'oten-e2e-backend-'));
  const origin = `http://127.0.0.1:${port}`;
  const appConfig = mode === 'bff'
    ? { app: { api_base_url: '' } }
    : { auth: { api_origins: [API] }, app: { api_base_url: API } };
  const config = {
    mode,
    listen: `127.0.0.1:${port}`,
    public_origin: origin,
    issuer: IDP,
    client_id: 'bff-dev',
    prompt: 'consent',
    api_upstream: API,
    static_dir: join(REPO, 'dist'),
    database_url: `sqlite://${join(dir, 'sessions.db')}`,
    app_config: appConfig,
  };
  writeFileSync(join(dir, 'backend.json'), JSON.stringify(config));
  const child = spawn(BINARY, ['--config', join(dir, 'backend.json')], {
    env: { ...process.env, OTEN_CLIENT_SECRET: SECRET, OTEN_BACKEND_KEYS: KEYS },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the backend did not start:\n${log}`);
    await sleep(100);
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', resolve); });
    rmSync(dir, { recursive: true, force: true });
  };
  return { origin, stop, log: () => log };
};

/** What the tab keeps in storage: nothing of the session in either mode. */
const tabStorage = (page) => page.evaluate(() => ({
  session: Object.keys(sessionStorage),
  local: Object.keys(localStorage),
}));

for (const [mode, port] of MODES) {
  test(`${mode}: sign-in through the backend, the profile, sign-out; no token kept in the tab`, async (t) => {
    const backend = await startBackend(mode, port);
    const { page, close } = await openPage(browser(), t);
    const authorizations = [];
    const toTheApi = [];
    const toTheBackend = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${IDP}/v1/oauth/authorize?`)) authorizations.push(r.url());
      if (r.url().startsWith(API)) toTheApi.push(r.headers().authorization ?? '');
      if (r.url().startsWith(`${backend.origin}/api/`)) toTheBackend.push(r.headers());
    });
    try {
      await page.goto(`${backend.origin}/`);
      await page.getByTestId('sign-in').click();
      await signInAtIdp(page, ALICE);
      await page.waitForURL((url) => url.origin === backend.origin && url.pathname === '/');
      await page.getByTestId('user-name').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('user-name').textContent(), ALICE.name);

      // The backend signed in as the confidential client: by request_uri (PAR) with no parameters in the URL.
      assert.ok(authorizations.length >= 1);
      for (const url of authorizations) {
        const params = new URL(url).searchParams;
        assert.deepEqual([...params.keys()].sort(), ['client_id', 'request_uri'], url);
        assert.equal(params.get('client_id'), 'bff-dev');
      }

      await page.goto(`${backend.origin}/profile`);
      await page.getByTestId('profile-email').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('profile-email').textContent(), 'alice@example.test');
      await screenshot(page, `backend-${mode}-profile`);

      if (mode === 'bff') {
        assert.equal(toTheApi.length, 0, 'in bff mode the page never calls the API itself');
        assert.ok(toTheBackend.length >= 1, 'the profile came through the backend');
        for (const headers of toTheBackend) {
          assert.equal(headers['x-csrf'], '1', 'the anti-CSRF header');
          assert.equal(headers.authorization, undefined, 'no token, not even a placeholder');
        }
      } else {
        assert.ok(toTheApi.length >= 1 && toTheApi.every((h) => h.startsWith('Bearer ')), 'Bearer to the API');
      }
      const kept = await tabStorage(page);
      assert.ok(!kept.session.some((k) => k.startsWith('oten.auth.tokens')), `sessionStorage: ${kept.session}`);
      assert.deepEqual(kept.local, [], 'localStorage is untouched');
      // The session cookie is HttpOnly: no script sees it.
      assert.ok(!(await page.evaluate(() => document.cookie)).includes('oten-session'));

      // Sign-out: the backend revokes and removes the session, then the IdP asks to confirm.
      await page.goto(`${backend.origin}/`);
      await page.getByTestId('sign-out').click();
      await page.waitForURL((url) => url.href.startsWith(`${IDP}/v1/oauth/logout?`));
      const endSession = new URL(page.url());
      assert.equal(endSession.searchParams.get('client_id'), 'bff-dev');
      assert.equal(endSession.searchParams.get('id_token_hint'), null, 'no token in a URL');
      await page.getByTestId('idp-logout-confirm').click();
      await page.waitForURL((url) => url.origin === backend.origin && url.pathname === '/signed-out');
      await page.getByTestId('signed-out').waitFor({ state: 'visible' });

      // Signed out for the backend too: the session's routes answer 401 JSON.
      const user = await page.evaluate(async () => {
        const r = await fetch('/auth/user', { headers: { 'x-csrf': '1' } });
        return { status: r.status, body: await r.json() };
      });
      assert.equal(user.status, 401);
      assert.equal(user.body.error, 'not_signed_in');
    } finally {
      await close();
      await backend.stop();
    }
  });
}

for (const [mode, port] of MODES) {
  test(`${mode}: an API that refuses the session ends it once, explains, and does not loop`, async (t) => {
    await testRoute('POST', '/test/clients/bff-dev/reset');
    await refuseAtApi('bff-dev', true);
    const backend = await startBackend(mode, port);
    const { page, close } = await openPage(browser(), t);
    try {
      const authorizations = recordAuthorizations(page);
      await page.goto(`${backend.origin}/`);
      await page.getByTestId('sign-in').click();
      await signInAtIdp(page, ALICE);
      await page.getByTestId('user-name').waitFor({ state: 'visible' });
      await page.goto(`${backend.origin}/profile`);
      // Refused, renewed at the backend, refused again: the session ends (at the backend too), /login says why, and
      // one more attempt ends in the explanation.
      await expectRefusedSessionNotToLoop(page, authorizations);
      const stats = await clientStats('bff-dev');
      assert.equal(stats.refresh.presented_twice, 0);
      assert.ok(stats.revocations >= 2, `the first session was revoked before signing in again (${stats.revocations})`);
    } finally {
      await refuseAtApi('bff-dev', false);
      await close();
      await backend.stop();
    }
  });
}
