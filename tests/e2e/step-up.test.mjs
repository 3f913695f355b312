// Step-up (RFC 9470): an API that wants a more recent sign-in answers 401 with
// `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=…`. The library signs the person in
// again with that max_age and comes back to the page; it is not a refresh, and the loop guard does not count it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, clientStats, leaseClient, openPage, recordAuthorizations, signInAtIdp, signInFromHome, sleep,
  stepUpMaxAge, storedTokens, useAppConfig, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

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

    // The API now wants a sign-in of this very second; ours is older.
    await stepUpMaxAge(clientId, 0);
    await sleep(1_100);
    await page.goto(`${APP}/security`);
    // The IdP asks for the password again (max_age=0): the person is sent there by the library, not by the app.
    await page.waitForURL((url) => url.href.includes('/interaction/'));
    const stepUp = new URL(authorizations.at(-1));
    assert.equal(stepUp.searchParams.get('max_age'), '0', 'the challenge\'s max_age is asked of the IdP');
    assert.equal(stepUp.searchParams.get('prompt'), null);

    // The API accepts a fresh sign-in again (a minute), so the page that comes back can show it.
    await stepUpMaxAge(clientId, 60);
    await signInAtIdp(page, ALICE);
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/security');
    const second = await page.getByTestId('security-auth-time').innerText();
    assert.notEqual(second, first, 'a newer sign-in time');

    const after = await storedTokens(page);
    assert.notEqual(after.refresh_token, before.refresh_token, 'a new session');
    const guard = await page.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.reauth') ?? 'null'));
    assert.ok(!guard?.reason && !guard?.forced_at, `the loop guard counted nothing: ${JSON.stringify(guard)}`);
    const stats = await clientStats(clientId);
    assert.equal(stats.refresh.presented_twice, 0, 'no refresh token presented twice');
    assert.ok(stats.revocations >= 1, 'the session before the step-up was revoked before leaving');
    assert.equal(stats.api.by_status['401'], 1, 'one step-up answer, no retry');
  } finally {
    await close();
  }
});
