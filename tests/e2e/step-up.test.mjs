// Step-up (RFC 9470): an API that wants a more recent sign-in answers 401 with
// `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=…`. The library sends the person to
// /login with the challenge, which asks them (a click: the session ends first) to sign in again with that max_age,
// and comes back to the page. It is not a refresh, and the loop guard does not count it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, clientStats, leaseClient, openPage, recordAuthorizations, signInAtIdp, signInFromHome, sleep,
  stepUpMaxAge, storedTokens, useAppConfig, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

const guardState = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.reauth') ?? 'null'));

test('an API asking for a recent sign-in gets a step-up that comes back to the page', async (t) => {
  const clientId = await leaseClient();
  const { context, page, close } = await openPage(browser(), t);
  try {
    await useAppConfig(context, { client_id: clientId });
    const authorizations = recordAuthorizations(page);
    await signInFromHome(page, ALICE);
    await page.getByRole('link', { name: 'Security' }).click();
    const first = await page.getByTestId('security-auth-time').innerText();
    const before = await storedTokens(page);
    // A session that ended earlier is on record: a step-up counted as a forced sign-in would take it and set
    // forced_at, and the next ended session would then look like a loop.
    const endedAt = Date.now() - 60_000;
    await page.evaluate((at) => sessionStorage.setItem('oten.auth.reauth', JSON.stringify({ reason: 'api_refused', ended_at: at })), endedAt);

    // The API now wants a sign-in of this very second; ours is older.
    await stepUpMaxAge(clientId, 0);
    await sleep(1_100);
    await page.goto(`${APP}/security`);
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/login' && url.searchParams.get('step_up') === '1');
    await page.getByTestId('step-up-needed').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('max_age'), '0');
    assert.equal(new URL(page.url()).searchParams.get('return_to'), '/security');
    assert.deepEqual(await storedTokens(page), before, 'nothing changes before the click');
    await page.getByTestId('step-up-continue').click();
    // The IdP asks for the password again (max_age=0).
    await page.waitForURL((url) => url.href.includes('/interaction/'));
    const stepUp = new URL(authorizations.at(-1));
    assert.equal(stepUp.searchParams.get('max_age'), '0', 'the challenge\'s max_age is asked of the IdP');

    // The API accepts a fresh sign-in again (a minute), so the page that comes back can show it.
    await stepUpMaxAge(clientId, 60);
    await signInAtIdp(page, ALICE);
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/security');
    const second = await page.getByTestId('security-auth-time').innerText();
    assert.notEqual(second, first, 'a newer sign-in time');

    const after = await storedTokens(page);
    assert.notEqual(after.refresh_token, before.refresh_token, 'a new session');
    const guard = await guardState(page);
    assert.equal(guard?.reason, 'api_refused', `the loop guard counted nothing: ${JSON.stringify(guard)}`);
    assert.equal(guard?.ended_at, endedAt);
    assert.equal(guard?.forced_at ?? null, null, `no forced sign-in recorded: ${JSON.stringify(guard)}`);
    const stats = await clientStats(clientId);
    assert.equal(stats.refresh.presented_twice, 0, 'no refresh token presented twice');
    assert.ok(stats.revocations >= 1, 'the session before the step-up was revoked before leaving');
    assert.equal(stats.api.by_status['401'], 1, 'one step-up answer, no retry');
  } finally {
    await close();
  }
});

test('a link to the step-up route asks first, and "Not now" keeps the session', async (t) => {
  const clientId = await leaseClient();
  const { context, page, close } = await openPage(browser(), t);
  try {
    await useAppConfig(context, { client_id: clientId });
    await signInFromHome(page, ALICE);
    const before = await storedTokens(page);
    const authorizations = recordAuthorizations(page);
    await page.goto(`${APP}/login?return_to=%2Fprofile&step_up=1&max_age=0`);
    await page.getByTestId('step-up-needed').waitFor();
    await sleep(1_000);
    assert.deepEqual(authorizations, [], 'no sign-in starts by itself');
    await page.getByTestId('step-up-not-now').click();
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/');
    await page.getByTestId('user-name').waitFor();
    assert.deepEqual(await storedTokens(page), before, 'the session is untouched');
    assert.equal((await clientStats(clientId)).revocations, 0, 'nothing was revoked');
  } finally {
    await close();
  }
});
