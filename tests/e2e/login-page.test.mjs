// Signed out, "Sign in" on the home page leads to the IdP's login form.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  APP, isLoginPage, openPage, screenshot, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

test('Sign in on the home page opens the IdP login page', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await page.goto(`${APP}/`);
    const signIn = page.getByTestId('sign-in');
    await signIn.waitFor({ state: 'visible' });
    await signIn.click();

    await page.waitForURL((url) => isLoginPage(url.href));
    await page.locator('input[name="username"]').waitFor({ state: 'visible' });
    assert.ok(await page.locator('input[name="password"]').isVisible(), 'password input visible');
    assert.ok(await page.getByRole('button', { name: 'Sign in' }).isVisible(), 'Sign in button visible');

    const authorize = new URL(page.url());
    assert.equal(authorize.origin, 'http://127.0.0.1:9000');
    await screenshot(page, 'login-page');
  } finally {
    await close();
  }
});

test('wrong credentials show a readable error on the IdP', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await page.goto(`${APP}/login?return_to=%2F`);
    await page.waitForURL((url) => isLoginPage(url.href));
    await page.locator('input[name="username"]').fill('alice');
    await page.locator('input[name="password"]').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor({ state: 'visible' });
    assert.match(await page.getByRole('alert').innerText(), /wrong username or password/i);
  } finally {
    await close();
  }
});
