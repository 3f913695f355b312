// Background refresh: with the page's clock moved forward (Playwright's fake clock, which drives both
// Date.now() and the app's timers), the access token is refreshed before it expires, without a reload
// and without leaving the protected page. Editing sessionStorage would not work: the app keeps an
// in-memory copy of the tokens.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, clientStats, idpStats, openLeasedPage, signInFromHome, storedTokens, tokenState, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

test('the access token is refreshed in the background when it is due', async (t) => {
  const { context, page, close, clientId } = await openLeasedPage(browser(), t);
  try {
    await page.clock.install();
    await signInFromHome(page, ALICE);
    await page.getByTestId('session-panel').waitFor({ state: 'visible' });
    assert.equal((await page.getByTestId('refresh-count').innerText()).trim(), '0', 'no refresh yet');
    const first = await storedTokens(page);
    assert.ok(first?.refresh_token, 'signed in with a refresh token');

    // Client-side navigation to the protected page (same document, same in-memory session).
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/profile');
    await page.getByTestId('profile-name').waitFor({ state: 'visible' });

    const before = await idpStats();
    // The app refreshes once a token is past half its lifetime (or within refresh_buffer_secs of expiry):
    // move to 60 % of the lifetime, due but not yet expired.
    const lifetimeMs = first.expires_at - first.stored_at;
    assert.ok(lifetimeMs > 10_000, `plausible access token lifetime (${lifetimeMs} ms)`);
    await page.clock.fastForward(Math.round(lifetimeMs * 0.6));
    await page.waitForFunction(
      (old) => {
        const raw = sessionStorage.getItem('oten.auth.tokens');
        return raw !== null && JSON.parse(raw).access_token !== old;
      },
      first.access_token,
      { timeout: 10_000 },
    );
    const second = await storedTokens(page);
    assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token was rotated');
    const after = await idpStats();
    assert.ok(after.token_requests.refresh_token - before.token_requests.refresh_token >= 1,
      'the IdP saw a refresh_token grant');

    assert.ok(second.expires_at > first.expires_at, 'the new token expires later');
    // Still on the protected page, still signed in.
    assert.equal(new URL(page.url()).pathname, '/profile');
    await page.getByTestId('profile-name').waitFor({ state: 'visible' });
    await page.getByTestId('user-name').waitFor({ state: 'visible' });

    // The new access token is accepted by the API, through the page (it is bound to the page's DPoP key: the test
    // could not use it itself): the profile page, mounted again, asks the API once more.
    const answered = (await clientStats(clientId)).api.by_status['200'] ?? 0;
    await page.getByRole('link', { name: 'Session', exact: true }).click();
    await page.getByRole('link', { name: 'Profile', exact: true }).click();
    await page.getByTestId('profile-name').waitFor({ state: 'visible' });
    assert.ok(((await clientStats(clientId)).api.by_status['200'] ?? 0) > answered, 'the refreshed access token works');
    assert.deepEqual((await tokenState(second)).access_token, { active: true, bound: true });

    // The home page's panel counts the refresh.
    await page.getByRole('link', { name: 'Oten sign-in' }).click();
    await page.getByTestId('session-panel').waitFor({ state: 'visible' });
    const count = Number((await page.getByTestId('refresh-count').innerText()).trim());
    assert.ok(count >= 1, `refresh-count is at least 1 (got ${count})`);
  } finally {
    await close();
  }
});
