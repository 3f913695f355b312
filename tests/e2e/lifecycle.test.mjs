// Page loads, sleep and an API that refuses every token:
// - a 10-minute sleep (the wall clock jumps, the monotonic clock does not): one refresh at wake-up, no 401 reaches
//   the page;
// - saving the rotated tokens fails (storage quota): the stored copy is removed, so the reload presents nothing
//   consumed — it is still signed in or cleanly signed out;
// - the API refuses every token: one sign-in attempt after the explanation, then the explanation with a way out,
//   never a loop.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, IDP, clientStats, eventually, leaseClient, openLeasedPage, openPage, refuseAtApi, signInFromHome, sleep,
  useAppConfig, useBrowser,
  expectRefusedSessionNotToLoop,
  recordAuthorizations,
} from './browser.mjs';

const browser = useBrowser();

const storedTokens = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.tokens') ?? 'null'));

test('after a 10-minute sleep the token is refreshed once at wake-up and no 401 reaches the page', { timeout: 90_000 }, async (t) => {
  const { context, page, close, clientId } = await openLeasedPage(browser(), t, { access_token_ttl: 3 });
  try {
    await page.clock.install();
    await signInFromHome(page, ALICE);
    await page.goto(`${APP}/profile`);
    await page.getByTestId('profile-name').waitFor();
    // Sleep: the page's timers stop and both of its clocks stand still, while real time passes (the access token
    // expires at the API too)…
    await page.clock.pauseAt(await page.evaluate(() => Date.now() + 10));
    await sleep(3_500);
    const before = await clientStats(clientId);
    const first = await storedTokens(page);
    // … then the laptop wakes: the wall clock has moved ten minutes, the monotonic clock has not.
    await page.clock.setSystemTime(await page.evaluate(() => Date.now() + 10 * 60_000));
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/user/profile'));
    await page.getByTestId('profile-reload').click(); // an API call at once, before any timer ran
    await page.clock.runFor(2_000); // and the background check's tick
    assert.equal((await answered).status(), 200, 'the first call after the sleep already carried a fresh token');
    await page.getByTestId('profile-name').waitFor();
    await eventually(async () => (await storedTokens(page))?.access_token !== first.access_token, 5_000, 'the refresh');
    const after = await clientStats(clientId);
    assert.equal(after.refresh.presented - before.refresh.presented, 1, 'exactly one refresh at wake-up');
    assert.equal(after.api.by_status['401'] ?? 0, before.api.by_status['401'] ?? 0, 'the API saw no expired token');
    assert.equal(await page.getByTestId('profile-error').count(), 0);
    assert.equal(after.refresh.presented_twice, 0);
  } finally {
    await close();
  }
});

test('a storage failure while saving rotated tokens leaves nothing a reload could present twice', { timeout: 90_000 }, async (t) => {
  const { context, page, close, clientId } = await openLeasedPage(browser(), t, { access_token_ttl: 3 });
  try {
    await signInFromHome(page, ALICE);
    await page.goto(`${APP}/profile`);
    await page.getByTestId('profile-name').waitFor();
    // From now on this tab's sessionStorage refuses the tokens, as a full storage does.
    await page.evaluate(() => {
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (key, value) {
        if (key === 'oten.auth.tokens') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return setItem.call(this, key, value);
      };
    });
    const before = await clientStats(clientId);
    await eventually(async () => (await clientStats(clientId)).refresh.consumed > before.refresh.consumed, 10_000, 'a refresh');
    await eventually(async () => (await storedTokens(page)) === null, 5_000,
      'the stored copy holding the consumed refresh token to be removed');
    assert.ok(await page.getByTestId('user-name').isVisible(), 'this page goes on in memory');
    // Reload: nothing stored to present, nobody to join. The protected page sends the tab to sign in, which the
    // live IdP session completes without a form: signed in again with a new session, nothing presented twice.
    const authorizations = recordAuthorizations(page);
    await page.reload();
    await page.getByTestId('profile-name').waitFor({ timeout: 15_000 });
    assert.equal(authorizations.length, 1, 'one fresh sign-in');
    const stats = await clientStats(clientId);
    assert.equal(stats.refresh.presented_twice, 0, 'no refresh token presented twice');
    assert.equal(stats.refresh.reuse, 0);
  } finally {
    await close();
  }
});

test('an API that refuses every token gets one sign-in attempt, then the explanation — no loop', { timeout: 90_000 }, async (t) => {
  const clientId = await leaseClient({ access_token_ttl: 60 });
  await refuseAtApi(clientId, true);
  const { context, page, close } = await openPage(browser(), t);
  try {
    await useAppConfig(context, { client_id: clientId });
    const authorizations = recordAuthorizations(page);
    await signInFromHome(page, ALICE);
    await page.goto(`${APP}/profile`);
    // Refused, refreshed, refused again: the session ends, /login says why, and one more attempt ends in the
    // explanation and a way out, and nothing more.
    await expectRefusedSessionNotToLoop(page, authorizations);
    const stats = await clientStats(clientId);
    assert.ok(stats.revocations >= 2, `each refused session was revoked (${stats.revocations})`);
    assert.equal(stats.refresh.presented_twice, 0);
  } finally {
    await refuseAtApi(clientId, false);
    await close();
  }
});
