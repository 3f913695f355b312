// A protected deep link: signed out, /profile goes through the IdP and comes back to /profile.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, isLoginPage, openPage, screenshot, signInAtIdp, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

test('signed out, /profile signs in first and returns to /profile', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    const visited = [];
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(frame.url()); });

    await page.goto(`${APP}/profile`);
    await page.waitForURL((url) => isLoginPage(url.href));
    assert.ok(
      visited.some((u) => u.startsWith(`${APP}/login?return_to=%2Fprofile`)),
      `went through /login?return_to=%2Fprofile (visited: ${visited.join(' → ')})`,
    );

    await signInAtIdp(page, ALICE);
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/profile');
    const profileName = page.getByTestId('profile-name');
    await profileName.waitFor({ state: 'visible' });
    assert.match(await profileName.innerText(), /Alice Example/);
    assert.equal(await page.evaluate(() => location.search), '');
    await screenshot(page, 'profile');
  } finally {
    await close();
  }
});
