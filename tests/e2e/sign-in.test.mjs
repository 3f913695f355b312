// A full sign-in through the real IdP form: the app ends on "/", clean URL, tokens only in
// sessionStorage, and no token in the console.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, openPage, screenshot, signInAtIdp, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

test('alice signs in through the IdP form and lands on the home page', async (t) => {
  const { page, consoleMessages, close } = await openPage(browser(), t);
  try {
    await page.goto(`${APP}/`);
    await page.getByTestId('sign-in').click();
    await signInAtIdp(page, ALICE);

    await page.waitForURL((url) => url.origin === APP && url.pathname === '/');
    const userName = page.getByTestId('user-name');
    await userName.waitFor({ state: 'visible' });
    assert.match(await userName.innerText(), /Alice Example/);
    await page.getByTestId('sign-out').waitFor({ state: 'visible' });

    const state = await page.evaluate(() => ({
      href: location.href,
      search: location.search,
      hash: location.hash,
      cookie: document.cookie,
      localStorageLength: localStorage.length,
      session: Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)])),
    }));
    assert.equal(state.search, '', 'no query string left after the callback');
    assert.doesNotMatch(state.href, /[?&#]code=/, 'no authorization code in the URL');
    assert.doesNotMatch(state.href, /state=/, 'no state in the URL');
    assert.equal(state.localStorageLength, 0, 'localStorage is empty');
    assert.equal(state.cookie, '', 'the app origin has no cookies');

    const raw = state.session['oten.auth.tokens'];
    assert.ok(raw, 'sessionStorage has oten.auth.tokens');
    const accessToken = JSON.parse(raw).access_token;
    assert.equal(typeof accessToken, 'string');
    assert.ok(accessToken.length >= 20, 'access token has a plausible length');

    const leaks = consoleMessages.filter((m) => m.text.includes(accessToken));
    assert.deepEqual(leaks, [], 'no console message contains the access token');

    await screenshot(page, 'signed-in-home');
  } finally {
    await close();
  }
});
