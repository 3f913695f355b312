// /session with a short-lived token: the bar and countdown, a refresh happening on its own and one on request, both
// in the timeline and the metrics, the claims and scopes, never a token in the page; then "Sign out".

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, clientStats, duplicateTab, eventually, openLeasedPage, openPage, screenshot, signInFromHome,
  signOutAndConfirm, storedTokens, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

test('the session page shows a refresh happen, and one on request, without a token in sight', { timeout: 60_000 }, async (t) => {
  const { context, page, close, clientId } = await openLeasedPage(browser(), t, { access_token_ttl: 8 });
  try {
    await signInFromHome(page, ALICE);
    await page.getByTestId('lifetime-bar').waitFor(); // the home page's compact version
    await page.getByRole('link', { name: 'Session', exact: true }).click();
    await page.waitForURL(`${APP}/session`);
    assert.match(await page.getByTestId('countdown').innerText(), /Expires in \d+ s · (refreshed in \d+ s|refresh due|refreshing now…)/);
    assert.match(await page.getByTestId('scopes').innerText(), /openid/);
    assert.match(await page.getByTestId('claims').innerText(), /Alice Example/);
    await page.getByTestId('other-tabs').filter({ hasText: 'No other tab' }).waitFor();

    // An 8-second token is renewed at half its life: it shows in the timeline and the metrics.
    await page.getByTestId('refresh-history').filter({ hasText: 'renewed at the IdP' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('session-announcement').filter({ hasText: /refreshed|Refreshing/ }).waitFor();
    const renewed = async () => Number((await page.getByTestId('chart-refreshes').innerText()).match(/renewed\s+(\d+)/)?.[1] ?? 0);
    assert.ok((await renewed()) >= 1);

    // "Refresh now": one more at once (background renewals may add theirs), each refresh token presented once.
    const before = { renewed: await renewed(), presented: (await clientStats(clientId)).refresh.presented };
    await page.getByTestId('refresh-now').click();
    await eventually(async () => (await renewed()) > before.renewed, 5_000, 'the manual refresh in the chart');
    const stats = await clientStats(clientId);
    assert.ok(stats.refresh.presented > before.presented);
    assert.equal(stats.refresh.presented_twice, 0, 'no refresh token presented twice');
    assert.ok((await page.getByTestId('refresh-history').locator('li').count()) >= 2);
    await screenshot(page, 'session-page');

    const tokens = await storedTokens(page);
    const html = await page.content();
    for (const secret of [tokens.access_token, tokens.refresh_token, tokens.id_token]) {
      assert.ok(secret && !html.includes(secret), 'no token anywhere in the page');
    }

    // The page's own "Sign out": the IdP asks to confirm (a GET without a token), then the app's signed-out page.
    await signOutAndConfirm(page, 'session-sign-out');
    assert.equal(await storedTokens(page), null);
  } finally {
    await close();
  }
});

test('the session page names the other tabs signed in as you, and which share the session', async (t) => {
  const { context, page, close } = await openPage(browser(), t);
  try {
    await signInFromHome(page, ALICE);
    const copy = await duplicateTab(context, page, '/');
    await copy.getByTestId('user-name').waitFor();
    await page.getByRole('link', { name: 'Session', exact: true }).click();
    await page.getByTestId('other-tabs').filter({ hasText: '1 other tab signed in as you (1 sharing this session' }).waitFor();
    await copy.close();
  } finally {
    await close();
  }
});
