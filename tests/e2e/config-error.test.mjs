// An unusable /config.json gives a readable error on the home page, never a crash. Only the config.json
// request is fulfilled by the test; the page itself comes from the real server (Chromium refuses loopback
// requests from a document that was itself fulfilled by route.fulfill).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { APP, CSP_CONNECT, openPage, screenshot, useBrowser } from './browser.mjs';

const browser = useBrowser();

/** Serves `body` as /config.json, opens the home page and returns the error text shown there. */
const homeWithConfig = async (page, body) => {
  let served = 0;
  await page.route(`${APP}/config.json`, (route) => {
    served += 1;
    return route.fulfill({ status: 200, contentType: 'application/json', body });
  });
  await page.goto(`${APP}/`);
  const message = page.getByTestId('auth-error-message');
  await message.waitFor({ state: 'visible' });
  assert.ok(served >= 1, 'the app asked for /config.json');
  // Signed-in or signed-out views must not appear alongside the error.
  assert.equal(await page.getByTestId('sign-in-main').count(), 0, 'no sign-in hero with a broken config');
  assert.equal(await page.getByTestId('user-name').count(), 0, 'nobody is signed in');
  return message.innerText();
};

test('config.json without client_id: the error names client_id', async (t) => {
  const { page, pageErrors, close } = await openPage(browser(), t);
  try {
    const text = await homeWithConfig(page, JSON.stringify({ auth: { issuer: 'http://127.0.0.1:9000' } }));
    assert.match(text, /auth\.client_id/, `the error names auth.client_id (got ${JSON.stringify(text)})`);
    assert.match(text, /config\.json/, 'the error says which file');
    await page.getByTestId('sign-in-again').waitFor({ state: 'visible' });
    assert.deepEqual(pageErrors, [], 'no uncaught page error');
    await screenshot(page, 'config-missing-client-id');
  } finally {
    await close();
  }
});

test('malformed config.json: a readable error', async (t) => {
  const { page, pageErrors, close } = await openPage(browser(), t);
  try {
    const text = await homeWithConfig(page, '{"auth": {"issuer": "http://127.0.0.1:9000", "client_id": ');
    assert.match(text, /config\.json/, `the error says which file (got ${JSON.stringify(text)})`);
    assert.match(text, /invalid|not a JSON|malformed|parse/i, 'the error says the file is unreadable');
    assert.ok(text.length < 400, 'the message is short enough to read');
    assert.deepEqual(pageErrors, [], 'no uncaught page error');
    await screenshot(page, 'config-malformed');
  } finally {
    await close();
  }
});

test('an issuer without discovery: a readable error, no crash', async (t) => {
  // The served policy names the real issuer, so the browser refuses to fetch this one's discovery document.
  const { page, pageErrors, close } = await openPage(browser(), t, { expectedCsp: [CSP_CONNECT] });
  try {
    const text = await homeWithConfig(page, JSON.stringify({ auth: { issuer: 'http://127.0.0.1:9002', client_id: 'spa-dev' } }));
    assert.ok(text.trim().length > 10, `an error is shown (got ${JSON.stringify(text)})`);
    assert.match(text, /provider|discovery|openid-configuration|metadata|HTTP 404|reach/i,
      `the error says the provider's metadata could not be loaded (got ${JSON.stringify(text)})`);
    // The rest of the app still renders (the header with its Sign in link).
    await page.getByTestId('sign-in').waitFor({ state: 'visible' });
    assert.deepEqual(pageErrors, [], 'no uncaught page error');
    await screenshot(page, 'config-no-discovery');
  } finally {
    await close();
  }
});

test('the library\'s settings at the top level (the old shape): the error says where they go', async (t) => {
  const { page, pageErrors, close } = await openPage(browser(), t);
  try {
    const text = await homeWithConfig(page, JSON.stringify({ issuer: 'http://127.0.0.1:9000', client_id: 'spa-dev' }));
    assert.match(text, /under "auth"/, `the error points to the auth section (got ${JSON.stringify(text)})`);
    assert.deepEqual(pageErrors, [], 'no uncaught page error');
  } finally {
    await close();
  }
});
