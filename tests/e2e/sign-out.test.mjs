// Sign out: local session cleared, refresh and access tokens revoked at the IdP (RFC 7009), the IdP session
// ended (RP-initiated logout), and no token ever in a URL.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, IDP, idpStats, isLoginPage, leaseClient, openPage, screenshot, signInFromHome, signOutAndConfirm,
  storedTokens, tokenState, useAppConfig, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

test('Sign out revokes the tokens, ends the IdP session and lands on /signed-out', async (t) => {
  const { context, page, close } = await openPage(browser(), t);
  try {
    // Every URL any frame of this context navigates to, for the whole test.
    const visited = [];
    context.on('page', (p) => p.on('framenavigated', (f) => visited.push(f.url())));
    page.on('framenavigated', (f) => visited.push(f.url()));
    // Every request URL too (the address bar is not the only place a token could leak into history/logs).
    const requested = [];
    page.on('request', (r) => requested.push(r.url()));

    await signInFromHome(page, ALICE);
    const tokens = await storedTokens(page);
    assert.ok(tokens, 'signed in: oten.auth.tokens is stored');
    const { access_token: accessToken, refresh_token: refreshToken, id_token: idToken } = tokens;
    assert.equal(typeof accessToken, 'string');
    assert.equal(typeof refreshToken, 'string', 'a refresh token was issued (offline_access)');
    assert.equal(typeof idToken, 'string', 'an ID token is kept for id_token_hint');

    // Sanity: the IdP holds both tokens before sign-out (bound to this browser's DPoP key: the test cannot use them
    // itself, so it asks the IdP), so inactive afterwards means revoked.
    assert.deepEqual(await tokenState(tokens), {
      access_token: { active: true, bound: true }, refresh_token: { active: true, bound: true },
    }, 'both tokens are live and DPoP-bound before sign-out');

    const statsBefore = await idpStats();
    await page.getByTestId('sign-out').click();
    // The default end-session request is a GET with no token; the IdP asks to confirm.
    await page.waitForURL((url) => url.href.startsWith(`${IDP}/v1/oauth/logout?`));
    const endSession = new URL(page.url());
    assert.deepEqual([...endSession.searchParams.keys()].sort(), ['client_id', 'post_logout_redirect_uri']);
    await screenshot(page, 'idp-logout-confirm');
    await page.getByTestId('idp-logout-confirm').click();
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/signed-out');
    await page.getByTestId('signed-out').waitFor({ state: 'visible' });
    await screenshot(page, 'signed-out');

    assert.equal(await page.evaluate(() => sessionStorage.getItem('oten.auth.tokens')), null,
      'sessionStorage has no oten.auth.tokens after sign-out');

    const statsAfter = await idpStats();
    assert.ok(statsAfter.revocations - statsBefore.revocations >= 1,
      `revocations increased (before ${statsBefore.revocations}, after ${statsAfter.revocations})`);
    assert.equal(statsAfter.end_sessions - statsBefore.end_sessions, 1,
      `end_sessions increased by 1 (before ${statsBefore.end_sessions}, after ${statsAfter.end_sessions})`);

    // Both tokens were revoked: the IdP no longer holds them (so the API and the token endpoint refuse them).
    const after = await tokenState(tokens);
    assert.equal(after.access_token.active, false, 'the access token was revoked');
    assert.equal(after.refresh_token.active, false, 'the refresh token was revoked');

    // Signed out in the app: the header offers "Sign in" again.
    await page.goto(`${APP}/`);
    const signIn = page.getByTestId('sign-in');
    await signIn.waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('user-name').count(), 0, 'no user name in the header');

    // Signed out at the IdP: signing in asks for credentials again (no silent sign-in).
    await signIn.click();
    await page.waitForURL((url) => isLoginPage(url.href), { timeout: 10_000 }).catch(() => {});
    assert.ok(isLoginPage(page.url()), `the IdP shows its login page again, not a silent sign-in (at ${page.url()})`);
    await page.locator('input[name="username"]').waitFor({ state: 'visible' });
    assert.ok(await page.locator('input[name="password"]').isVisible(), 'the login form is shown');

    // No token in any URL of the whole test.
    assert.ok(visited.length > 5, `navigations were recorded (${visited.length})`);
    for (const [name, value] of [['access token', accessToken], ['refresh token', refreshToken], ['ID token', idToken]]) {
      const inNav = visited.filter((u) => u.includes(value) || u.includes(encodeURIComponent(value)));
      assert.deepEqual(inNav, [], `no navigated URL contains the ${name}`);
      const inReq = requested.filter((u) => u.includes(value) || u.includes(encodeURIComponent(value)));
      assert.deepEqual(inReq, [], `no request URL contains the ${name}`);
    }
    assert.ok(!visited.some((u) => /id_token_hint=/.test(u)), 'no id_token_hint in any navigated URL');
  } finally {
    await close();
  }
});

test('Sign out from a protected page ends on /signed-out, not on a new sign-in', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await signInFromHome(page, ALICE);
    await page.goto(`${APP}/profile`);
    await page.getByTestId('profile-name').waitFor({ state: 'visible' });
    const visited = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    await signOutAndConfirm(page);
    await page.getByTestId('signed-out').waitFor({ state: 'visible' });
    assert.deepEqual(visited.filter(isLoginPage), [], 'the route guard did not start a new sign-in');
    assert.deepEqual(visited.filter((u) => u.startsWith(`${APP}/login`)), [], 'no detour through /login');
    assert.equal(await storedTokens(page), null);
  } finally {
    await close();
  }
});

test('with end_session_method "post" the ID token hint goes in a form body and the IdP does not ask', async (t) => {
  const clientId = await leaseClient({ access_token_ttl: 60 });
  const { context, page, close } = await openPage(browser(), t);
  try {
    await useAppConfig(context, { client_id: clientId, end_session_method: 'post' });
    await signInFromHome(page, ALICE);
    const { id_token: idToken } = await storedTokens(page);
    const posted = page.waitForRequest((r) => r.url().startsWith(`${IDP}/v1/oauth/logout`) && r.method() === 'POST');
    const visited = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
    await page.getByTestId('sign-out').click();
    const form = new URLSearchParams((await posted).postData() ?? '');
    assert.equal(form.get('id_token_hint'), idToken, 'the hint travels in the body');
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/signed-out');
    assert.ok(visited.every((u) => !u.includes(idToken) && !u.includes('id_token_hint')), 'never in a URL');
  } finally {
    await close();
  }
});
