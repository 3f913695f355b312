// Hostile input end to end (SECURITY.md, "bad input"): every sessionStorage key the app keeps replaced in turn by
// invalid JSON, wrong types, null, a 2 MB string, an expired session or another client's tokens, then a page load:
// never a panic, always a readable page, and what must survive survives. Then hostile callbacks, return paths, and
// oversize or malformed answers from the API and the IdP.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, API, APP, IDP, leaseClient, openLeasedPage, openPage, replaceSessionStorage, sessionStorageOf, signInAtIdp,
  storedTokens, testRoute, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

const TOKENS = 'oten.auth.tokens';
const DRAFT = 'oten.app.profile-draft';
const KEYS = [TOKENS, 'oten.auth.tab', 'oten.auth.pending', 'oten.auth.discovery', 'oten.auth.reauth', DRAFT];

/**
 * What the page shows once it has settled on something a person can read (polled across the navigations a fresh
 * sign-in makes: /login, the IdP, /callback, back), and the same twice in a row.
 */
const settled = async (page) => {
  const look = () => page.evaluate(() => {
    const ids = ['app-stopped', 'profile-name', 'session-ended', 'auth-error', 'sign-in', 'user-name']
      .filter((id) => document.querySelector(`[data-testid="${id}"]`));
    const heading = document.querySelector('main h1')?.textContent?.trim() ?? '';
    return { ids, heading, path: location.pathname, origin: location.origin };
  });
  const deadline = Date.now() + 20_000;
  let last = '';
  for (;;) {
    const now = await look().catch(() => undefined);
    const explained = now && (now.heading || now.ids.includes('session-ended') || now.ids.includes('auth-error'));
    const ready = now && now.origin === APP && now.path !== '/callback' && explained
      && (now.ids.includes('app-stopped') || now.ids.includes('profile-name') || now.ids.includes('session-ended')
        || now.ids.includes('auth-error') || (now.ids.includes('sign-in') && now.path !== '/profile'));
    const key = JSON.stringify(now);
    if (ready && key === last) {
      assert.ok(!now.ids.includes('app-stopped'), 'the app did not stop (no panic)');
      return now.ids;
    }
    last = ready ? key : '';
    if (Date.now() > deadline) throw new Error(`no readable page (last: ${key})`);
    await page.waitForTimeout(300);
  }
};

/** A fresh context on a leased test client, signed in as alice on /profile (closed by the caller's `close`). */
const signedInOnProfile = async (t) => {
  const opened = await openLeasedPage(browser(), t);
  try {
    await opened.page.goto(`${APP}/profile`);
    await signInAtIdp(opened.page, ALICE);
    await opened.page.getByTestId('profile-name').waitFor();
  } catch (e) {
    await opened.close().catch(() => {});
    throw e;
  }
  return opened;
};

test('each sessionStorage key corrupted in turn: no panic, a readable page, the rest survives', { timeout: 240_000 }, async (t) => {
  const { page, pageErrors, close } = await signedInOnProfile(t);
  try {
    // A draft to keep: typed, not saved.
    await page.getByLabel('Bio', { exact: true }).fill('Typed before the storage went bad.');
    await page.waitForFunction((k) => sessionStorage.getItem(k) !== null, DRAFT);
    // A sign-in attempt in flight and a loop-guard record, so every key exists.
    const snapshot = await sessionStorageOf(page);
    snapshot['oten.auth.pending'] ??= JSON.stringify({ state: 's', nonce: 'n', code_verifier: 'v'.repeat(43), return_to: '/', redirect_uri: `${APP}/callback`, created_at: Date.now() });
    snapshot['oten.auth.reauth'] ??= JSON.stringify({});
    for (const key of KEYS) assert.ok(snapshot[key] !== undefined, `${key} is there to corrupt`);
    const tokens = JSON.parse(snapshot[TOKENS]);

    // Another client's tokens: a real session of bob for another test client (Bearer, never this app's), stored as
    // that client's app would store it. Refused at load (the stored session names its client).
    const otherClient = await leaseClient();
    const foreign = await testRoute('POST', `/test/session?user=bob&client_id=${otherClient}`);
    const now = Date.now();
    const foreignSet = JSON.stringify({
      v: 1, access_token: foreign.access_token, refresh_token: foreign.refresh_token, token_type: 'Bearer',
      scope: foreign.scope, expires_at: now + foreign.expires_in * 1000, stored_at: now, lineage: 'foreign-client', seq: 0,
      signed_in_at: now, client_id: otherClient,
    });
    const expired = JSON.stringify({
      ...tokens, refresh_token: null, expires_at: now - 60_000, stored_at: now - 120_000, signed_in_at: now - 120_000,
      lineage: 'expired-session',
    });
    const hostile = {
      'invalid JSON': '{"v":1,"access_token":',
      'wrong types': JSON.stringify({ v: 1, access_token: 5, expires_at: 'soon', refresh_token: [] }),
      null: 'null',
      'a 2 MB string': 'x'.repeat(2 * 1024 * 1024),
      'an array': '[1,2,3]',
    };
    const cases = KEYS.flatMap((key) => Object.entries(hostile).map(([what, value]) => [key, what, value]));
    cases.push([TOKENS, 'an expired session', expired], [TOKENS, "another client's tokens", foreignSet]);

    for (const [key, what, value] of cases) {
      await replaceSessionStorage(page, { ...snapshot, [key]: value });
      await page.goto(`${APP}/profile`);
      const shown = await settled(page).catch((e) => { throw new Error(`${key} = ${what}: ${e.message}`); });
      const after = await sessionStorageOf(page);
      if (key === TOKENS) {
        // The session could not be used as stored: the draft and the tab's id are kept all the same.
        assert.equal(after[DRAFT], snapshot[DRAFT], `${key} = ${what}: the draft survives`);
        assert.equal(after['oten.auth.tab'], snapshot['oten.auth.tab'], `${key} = ${what}: the tab keeps its id`);
        assert.notEqual(after[TOKENS], value, `${key} = ${what}: the unusable value is not kept`);
        if (shown.includes('profile-name')) {
          // The provider's session was still there: /login signed in again at once, a new session.
          assert.notEqual(JSON.parse(after[TOKENS]).lineage, tokens.lineage, `${key} = ${what}: a new session`);
        }
      } else {
        // Everything else is rebuilt or dropped: the session survives and the profile shows.
        assert.ok(shown.includes('profile-name'), `${key} = ${what}: still signed in (shown: ${shown})`);
        const kept = JSON.parse(after[TOKENS]);
        assert.equal(kept.lineage, tokens.lineage, `${key} = ${what}: the session survives`);
        if (key !== DRAFT) assert.equal(after[DRAFT], snapshot[DRAFT], `${key} = ${what}: the draft survives`);
      }
      assert.deepEqual(pageErrors, [], `${key} = ${what}: no page error`);
    }
  } finally {
    await close();
  }
});

test('hostile callbacks: foreign iss, missing state, script in error_description', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await page.goto(`${APP}/`);
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${IDP}/v1/oauth/authorize`));
    await page.getByTestId('sign-in').click();
    const state = new URL((await authorize).url()).searchParams.get('state');
    await page.waitForURL((url) => url.origin === IDP);
    const exchanges = [];
    page.on('request', (r) => { if (r.url() === `${IDP}/v1/oauth/token`) exchanges.push(r.url()); });

    // This tab's state, but a foreign issuer (a mix-up attack): refused before any token request.
    await page.goto(`${APP}/callback?code=stolen&state=${state}&iss=${encodeURIComponent('https://evil.test')}`);
    const message = page.getByTestId('auth-error-message');
    await message.waitFor();
    assert.match(await message.innerText(), /issuer|iss/i);
    assert.equal(await page.evaluate(() => location.search), '', 'code and state left the address bar');

    // No state at all.
    await page.goto(`${APP}/callback?code=abc`);
    await page.getByTestId('auth-error-message').waitFor();

    // Script and markup in a provider error for a state this tab never sent: no attacker text, no element.
    await page.goto(`${APP}/callback?error=access_denied&state=forged&error_description=${encodeURIComponent('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>')}`);
    await page.getByTestId('auth-error-message').waitFor();
    const text = await page.getByTestId('auth-error').innerText();
    assert.doesNotMatch(text, /onerror|<script|pwned/);
    assert.equal(await page.evaluate(() => window.__pwned ?? 0), 0);
    assert.equal(await page.getByTestId('auth-error').locator('img, script').count(), 0);
    assert.deepEqual(exchanges, [], 'no code was exchanged');
  } finally {
    await close();
  }
});

test('hostile return paths land on the app, on a same-origin path', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await page.goto(`${APP}/profile`);
    await signInAtIdp(page, ALICE);
    await page.getByTestId('profile-name').waitFor();
    const hostile = [
      '//evil.test', 'https://evil.test', '/\\evil.test', 'javascript:alert(1)', // SECURITY.md's own
      '/\t/evil.test', '/%2F%2Fevil.test', '%2F%2Fevil.test', 'https:evil.test', '\\\\evil.test', '///evil.test',
      '/%5Cevil.test', '\uFF0F\uFF0Fevil.test', 'java\nscript:alert(1)', 'data:text/html,<script>alert(1)</script>',
      `/${'a'.repeat(10_000)}`, ' //evil.test', 'http://127.0.0.1:8080@evil.test/',
      // Dot segments: the browser resolves `/.//evil.test` to `//evil.test` (this one used to stop the app).
      '/.//evil.test', '/a/..//evil.test', '/%2e//evil.test',
    ];
    for (const candidate of hostile) {
      await page.goto(`${APP}/login?return_to=${encodeURIComponent(candidate)}`);
      await page.waitForURL((url) => url.pathname !== '/login', { timeout: 10_000 });
      const url = new URL(page.url());
      assert.equal(url.origin, APP, `${JSON.stringify(candidate)} stays on the app (went to ${url.href.slice(0, 80)})`);
      assert.ok(!url.pathname.startsWith('//') && !url.pathname.includes('\\'), `${JSON.stringify(candidate)}: ${url.pathname.slice(0, 80)}`);
      assert.equal(url.pathname, '/', `${JSON.stringify(candidate.slice(0, 40))} lands on /`);
    }
  } finally {
    await close();
  }
});

test('oversize and malformed answers from the API and the IdP: readable errors, the session kept', async (t) => {
  const { context, page, pageErrors, close } = await signedInOnProfile(t);
  try {
    const tokens = await storedTokens(page);
    // (Answers are faked with Playwright's routing: the page cannot tell them from the API's.)
    const answers = [
      ['a 20 MB answer', { status: 200, contentType: 'application/json', body: `{"name":"${'x'.repeat(20 * 1024 * 1024)}"}` }],
      ['not JSON', { status: 200, contentType: 'application/json', body: '<html>502 Bad Gateway' }],
      ['the wrong shape', { status: 200, contentType: 'application/json', body: '{"name":["a"],"email":5}' }],
      ['an empty 500', { status: 500, body: '' }],
      ['a huge error description', { status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'x', error_description: 'y'.repeat(500_000) }) }],
    ];
    for (const [what, answer] of answers) {
      await context.route(`${API}/api/user/profile`, (route) => route.fulfill({
        ...answer, headers: { 'access-control-allow-origin': APP, 'access-control-expose-headers': 'www-authenticate' },
      }));
      await page.goto(`${APP}/profile`);
      await page.locator('[data-testid="profile-error"], [data-testid="profile-name"], [role="alert"]').first().waitFor();
      assert.equal(await page.getByTestId('app-stopped').count(), 0, `${what}: no panic`);
      const text = await page.locator('main').innerText();
      assert.ok(text.length < 5_000, `${what}: the page shows a short message, not the answer (${text.length} chars)`);
      assert.equal((await storedTokens(page))?.lineage, tokens.lineage, `${what}: the session is kept`);
      await context.unroute(`${API}/api/user/profile`);
    }
    // A malformed discovery document at the next page load (after its cached copy is dropped): a readable error.
    await page.evaluate(() => sessionStorage.removeItem('oten.auth.discovery'));
    await context.route(`${IDP}/.well-known/openid-configuration`, (route) => route.fulfill({
      status: 200, contentType: 'application/json', body: `{"issuer": "${IDP}", "token_endpoint": 5`,
      headers: { 'access-control-allow-origin': '*' },
    }));
    await page.goto(`${APP}/`);
    await page.locator('[role="alert"]').first().waitFor();
    assert.equal(await page.getByTestId('app-stopped').count(), 0);
    assert.ok(await storedTokens(page), 'the session is kept for when the provider answers again');
    assert.deepEqual(pageErrors, []);
  } finally {
    await close();
  }
});
