// Editing the profile (PUT /api/user/profile) through the real IdP and API: saved, refused by the API beside its
// field, and kept through a page load and through a session that ended mid-edit. Bob's profile, which no other test
// reads (the API keeps one profile per person for the whole run).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  API, APP, BOB, isLoginPage, openLeasedPage, openPage, refuseAtApi, screenshot, signInAtIdp, signInFromHome,
  sleep, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

const draft = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('oten.app.profile-draft') ?? 'null'));

test('bob edits his profile: saved, refused beside the field, kept across a page load', async (t) => {
  const { page, close } = await openPage(browser(), t);
  try {
    await signInFromHome(page, BOB);
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByTestId('profile-name').waitFor();
    const name = page.getByLabel('Name', { exact: true });
    const bio = page.getByLabel('Bio', { exact: true });
    // The form starts from the profile (Bob Example on a fresh stack; what an earlier run saved otherwise).
    await page.waitForFunction(() => document.querySelector('[data-testid=profile-name-input]')?.value);
    assert.equal(await name.inputValue(), await page.getByTestId('profile-name').innerText(), 'the form starts from the profile');

    // Typed, then the page is loaded again: the draft comes back.
    await name.fill('Bob the Builder');
    await bio.fill('Builds things.');
    const kept = await draft(page);
    assert.deepEqual({ name: kept.name, bio: kept.bio }, { name: 'Bob the Builder', bio: 'Builds things.' });
    assert.ok(kept.sub, 'the draft names its owner');
    await page.reload();
    await page.getByTestId('draft-restored').waitFor();
    assert.equal(await name.inputValue(), 'Bob the Builder');
    assert.equal(await bio.inputValue(), 'Builds things.');

    // Saved: the profile shows it, the draft is gone, and the API has it.
    const put = page.waitForResponse((r) => r.url() === `${API}/api/user/profile` && r.request().method() === 'PUT');
    await page.getByTestId('profile-save').click();
    assert.equal((await put).status(), 200);
    await page.getByTestId('profile-status').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal(await page.getByTestId('profile-name').innerText(), 'Bob the Builder');
    assert.equal(await draft(page), null);
    await screenshot(page, 'profile-saved');

    // Checked before sending: nothing goes out.
    await name.fill('   ');
    let puts = 0;
    page.on('request', (r) => { if (r.method() === 'PUT') puts += 1; });
    await page.getByTestId('profile-save').click();
    await page.getByTestId('profile-name-problem').filter({ hasText: 'Enter a name.' }).waitFor();
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal(puts, 0, 'an empty name is not sent');

    await sleep(500);
    assert.equal(puts, 0, 'nor a moment later');

    // Refused by the API (a rule only the server knows): its words beside the field, the draft kept.
    await name.fill('<Bob>');
    const refused = page.waitForResponse((r) => r.url() === `${API}/api/user/profile` && r.request().method() === 'PUT');
    await page.getByTestId('profile-save').click();
    assert.equal((await refused).status(), 422);
    await page.getByTestId('profile-name-problem').filter({ hasText: 'A name cannot contain < or >.' }).waitFor();
    assert.match(await page.getByTestId('profile-status').innerText(), /did not accept this change/);
    assert.equal((await draft(page)).name, '<Bob>');
    await screenshot(page, 'profile-refused');

    // Discarded: back to the saved profile.
    await page.getByTestId('profile-discard').click();
    assert.equal(await name.inputValue(), 'Bob the Builder');
    assert.equal(await draft(page), null);
  } finally {
    await close();
  }
});

test('what bob typed survives a session that ended while saving, and is saved after signing in again', { timeout: 60_000 }, async (t) => {
  const { context, page, close, clientId } = await openLeasedPage(browser(), t, { access_token_ttl: 60 });
  try {
    await signInFromHome(page, BOB);
    await page.goto(`${APP}/profile`);
    await page.getByTestId('profile-name').waitFor();
    await page.getByLabel('Bio', { exact: true }).fill('Typed before the session ended.');

    // The API refuses every token of this client: refused, refreshed, refused again — the session ends at /login.
    await refuseAtApi(clientId, true);
    await page.getByTestId('profile-save').click();
    await page.getByTestId('session-ended').waitFor();
    assert.equal((await draft(page)).bio, 'Typed before the session ended.', 'the draft outlives the session');
    await refuseAtApi(clientId, false);

    await page.getByTestId('sign-in-again').click();
    await page.waitForURL((url) => isLoginPage(url.href) || (url.origin === APP && url.pathname === '/profile'));
    if (isLoginPage(page.url())) await signInAtIdp(page, BOB);
    await page.waitForURL((url) => url.origin === APP && url.pathname === '/profile');
    await page.getByTestId('draft-restored').waitFor();
    assert.equal(await page.getByLabel('Bio', { exact: true }).inputValue(), 'Typed before the session ended.');
    await page.getByTestId('profile-save').click();
    await page.getByTestId('profile-status').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal(await page.getByTestId('profile-bio').innerText(), 'Typed before the session ended.');
  } finally {
    await refuseAtApi(clientId, false);
    await close();
  }
});
