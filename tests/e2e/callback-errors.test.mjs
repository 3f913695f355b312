// /callback errors: an IdP error shown as text, an unknown state refused before any token request, and a
// captured callback URL replayed in the same tab refused without exchanging the code a second time.
//
// The IdP counters are shared by every test file, and `node --test` runs files in parallel, so other sign-ins
// may add successful authorization_code requests meanwhile. "No token request was made" is therefore checked
// twice: exactly, on this page's own requests, and on the IdP's failed authorization_code requests (a code
// exchange with an unknown or used code can only fail, and no other test makes one fail).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, IDP, idpStats, openPage, screenshot, signInFromHome, storedTokens, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

const TOKEN_ENDPOINT = `${IDP}/v1/oauth/token`;

/** Records this page's code exchanges (POSTs to the token endpoint with grant_type=authorization_code). */
const recordCodeExchanges = (page) => {
  const exchanges = [];
  page.on('request', (r) => {
    if (r.method() !== 'POST' || !r.url().startsWith(TOKEN_ENDPOINT)) return;
    const form = new URLSearchParams(r.postData() ?? '');
    if (form.get('grant_type') === 'authorization_code') exchanges.push(form.get('code'));
  });
  return exchanges;
};

const errorMessage = async (page) => {
  const message = page.getByTestId('auth-error-message');
  await message.waitFor({ state: 'visible' });
  return message;
};

/** Starts a real sign-in from the home page and returns the `state` the app sent to the IdP. */
const startSignIn = async (page) => {
  await page.goto(`${APP}/`);
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${IDP}/v1/oauth/authorize`));
  await page.getByTestId('sign-in').click();
  const state = new URL((await authorize).url()).searchParams.get('state');
  assert.ok(state, 'the authorization request carries a state');
  await page.waitForURL((url) => url.origin === IDP);
  return state;
};

test('an IdP error is shown as text with "Sign in again", and the query is removed', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    // The IdP answers this tab's sign-in with an error (as when the person cancels); it sends `iss` (RFC 9207)
    // with every authorization response, errors included.
    const state = await startSignIn(page);
    const iss = encodeURIComponent(IDP);
    await page.goto(`${APP}/callback?error=access_denied&error_description=%3Cb%3Ebold%3C%2Fb%3E&state=${state}&iss=${iss}`);
    const message = await errorMessage(page);
    const text = await message.innerText();
    assert.ok(text.includes('<b>bold</b>'), `the description is shown literally (got ${JSON.stringify(text)})`);
    assert.equal(await message.locator('b').count(), 0, 'no <b> element: the description is text, not HTML');
    assert.equal(await page.getByTestId('auth-error').locator('b').count(), 0, 'no <b> anywhere in the error');

    const again = page.getByTestId('sign-in-again');
    await again.waitFor({ state: 'visible' });
    assert.equal(new URL(await again.evaluate((a) => a.href)).pathname, '/login', 'Sign in again goes to /login');

    const where = await page.evaluate(() => ({ path: location.pathname, search: location.search }));
    assert.equal(where.search, '', 'error, error_description and state removed from the URL');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('oten.auth.tokens')), null, 'no tokens stored');
    await screenshot(page, 'callback-provider-error');
  } finally {
    await close();
  }
});

test('a crafted error link (no sign-in of this tab) shows no attacker text', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await page.goto(`${APP}/callback?error=access_denied&error_description=Call+0800+SCAM&state=x`);
    const text = await (await errorMessage(page)).innerText();
    assert.ok(!text.includes('SCAM'), `the crafted description is not shown (got ${JSON.stringify(text)})`);
    assert.match(text, /sign in again/i);
    assert.equal(await page.evaluate(() => location.search), '');
  } finally {
    await close();
  }
});

test('an unknown state is refused before any token request', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    const exchanges = recordCodeExchanges(page);
    const before = await idpStats();

    await page.goto(`${APP}/callback?code=abc&state=unknown`);
    const message = await errorMessage(page);
    assert.match(await message.innerText(), /sign in again/i, 'the error tells the person to sign in again');
    await page.getByTestId('sign-in-again').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => location.search), '', 'code and state removed from the URL');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('oten.auth.tokens')), null, 'no tokens stored');

    // Let anything still in flight arrive before reading the counters.
    await page.waitForLoadState('networkidle');
    const after = await idpStats();
    assert.deepEqual(exchanges, [], 'the page made no authorization_code token request');
    assert.equal(after.token_errors.authorization_code, before.token_errors.authorization_code,
      'the IdP saw no (failed) exchange of the code "abc"');
  } finally {
    await close();
  }
});

test('a captured callback URL replayed in the same tab does not exchange the code again', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    const exchanges = recordCodeExchanges(page);
    // The callback is the last hop of a redirect chain started by the login form's POST, so it is recorded
    // from the request events (page.route only sees the first URL of a redirect chain).
    const callbacks = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === APP && url.pathname === '/callback' && url.searchParams.has('code')) callbacks.push(r.url());
    });
    const before = await idpStats();

    await signInFromHome(page, ALICE);
    const first = await storedTokens(page);
    assert.ok(first, 'signed in');
    assert.equal(callbacks.length, 1, `one callback captured (${callbacks.length})`);
    const callbackUrl = callbacks[0];
    const code = new URL(callbackUrl).searchParams.get('code');
    assert.deepEqual(exchanges, [code], 'the code was exchanged once during the sign-in');

    // Replay the same callback URL in the same tab.
    await page.goto(callbackUrl);
    const message = await errorMessage(page);
    assert.match(await message.innerText(), /unknown or was already used|sign in again/i);
    assert.equal(await page.evaluate(() => location.search), '', 'code and state removed from the URL');
    await screenshot(page, 'callback-replayed');

    await page.waitForLoadState('networkidle');
    const after = await idpStats();
    assert.deepEqual(exchanges, [code], 'no second token request with that code');
    assert.ok(after.token_requests.authorization_code - before.token_requests.authorization_code >= 1,
      'the IdP counted the first exchange');
    assert.equal(after.token_errors.authorization_code, before.token_errors.authorization_code,
      'the IdP saw no failed (replayed) code exchange');

    // A replayed callback changes nothing: the session of this tab is kept as it was.
    const still = await storedTokens(page);
    assert.ok(still, 'the earlier session is kept');
    assert.equal(still.access_token, first.access_token, 'the kept session is the earlier one');
    assert.equal(still.lineage, first.lineage);
  } finally {
    await close();
  }
});
