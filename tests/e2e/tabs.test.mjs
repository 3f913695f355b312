// Tabs that share one session (one grant at the IdP): a duplicated tab and a window.open'ed one call the API in a
// loop for 30 s with 3-second access tokens — every refresh token is presented once, all stay signed in; then a
// sign-out in one tab reaches the others within a second; and a tab opened fresh joins a signed-in sibling.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, API, APP, IDP, clientStats, press, duplicateTab, isLoginPage, leaseClient, openPage, recordTokenRequests,
  signInFromHome, sleep, useAppConfig, useBrowser,
  recordAuthorizations,
} from './browser.mjs';

const browser = useBrowser();
const PROFILE = `${API}/api/user/profile`;

/** Counts the API's answers to a page's profile calls, by status. */
const countApiAnswers = (page) => {
  const counts = {};
  page.on('response', (r) => {
    if (r.url() === PROFILE && r.request().method() === 'GET') counts[r.status()] = (counts[r.status()] ?? 0) + 1;
  });
  return counts;
};

/** Clicks "Reload" on the profile page until `until`; returns how many loads showed an error to the person. */
const reloadInALoop = async (page, until) => {
  let errors = 0;
  while (Date.now() < until) {
    const answered = page.waitForResponse((r) => r.url() === PROFILE, { timeout: 15_000 }).catch(() => null);
    await press(page, 'profile-reload');
    await answered;
    await page.getByTestId('profile-name').or(page.getByTestId('profile-error')).first().waitFor();
    errors += await page.getByTestId('profile-error').count();
    await sleep(100);
  }
  return errors;
};

test('three tabs of one session call the API for 30 s: each refresh token is presented once; sign-out reaches all', { timeout: 180_000 }, async (t) => {
    const clientId = await leaseClient({ access_token_ttl: 3 });
    const { context, page: a, close } = await openPage(browser(), t);
    try {
      await useAppConfig(context, { client_id: clientId });
      await signInFromHome(a, ALICE);
      await a.goto(`${APP}/profile`);
      await a.getByTestId('profile-name').waitFor();

      // b: "Duplicate tab" (a copy of a's sessionStorage); c: window.open without noopener (also a copy).
      const b = await duplicateTab(context, a, '/profile');
      const opened = context.waitForEvent('page');
      await a.evaluate(() => window.open('/profile'));
      const c = await opened;
      const pages = { a, b, c };
      const answers = Object.fromEntries(Object.entries(pages).map(([k, p]) => [k, countApiAnswers(p)]));
      for (const p of Object.values(pages)) await p.getByTestId('profile-name').waitFor();
      const tabIds = await Promise.all(Object.values(pages).map((p) => p.evaluate(() => sessionStorage.getItem('oten.auth.tab'))));
      assert.equal(new Set(tabIds).size, 3, `each copy took a tab id of its own: ${tabIds}`);

      const before = await clientStats(clientId);
      const until = Date.now() + 30_000;
      const errors = await Promise.all(Object.values(pages).map((p) => reloadInALoop(p, until)));
      const after = await clientStats(clientId);

      const refreshes = after.refresh.presented - before.refresh.presented;
      const ok = Object.values(answers).reduce((n, c) => n + (c[200] ?? 0), 0);
      t.diagnostic(`30 s, 3 tabs, 3 s tokens: ${after.token_requests.refresh_token - before.token_requests.refresh_token} `
        + `refresh requests, ${after.refresh.presented_twice} refresh tokens presented twice, ${ok} API calls answered 200, `
        + `answers per tab ${JSON.stringify(answers)}`);
      assert.equal(after.refresh.presented_twice, 0, 'no refresh token presented twice');
      assert.equal(after.refresh.reuse, 0, 'the IdP detected no reuse');
      assert.equal(after.refresh.consumed, after.refresh.presented, 'every refresh succeeded');
      assert.ok(refreshes >= 12 && refreshes <= 30, `about one refresh per 1.5 s of a 3 s token, shared by 3 tabs (${refreshes})`);
      assert.deepEqual(errors, [0, 0, 0], 'no API call failed in any tab');
      assert.ok(ok >= 60, `the tabs kept calling the API (${ok} answers 200)`);
      for (const p of Object.values(pages)) {
        assert.match(await p.getByTestId('user-name').innerText(), /Alice Example/, 'still signed in');
      }

      // Sign-out in a: b and c show the signed-out state within a second and send nothing more with the old tokens.
      const withToken = [];
      for (const p of [b, c]) {
        p.on('request', (r) => { if (r.url().startsWith(API) && r.headers().authorization) withToken.push(r.url()); });
      }
      await a.bringToFront(); // the person clicks in the tab in front
      const clicked = Date.now();
      await a.getByTestId('sign-out').click();
      await Promise.all([b, c].map((p) => p.getByTestId('session-ended').waitFor({ timeout: 5_000 })));
      const took = Date.now() - clicked;
      t.diagnostic(`the sibling tabs showed the sign-out after ${took} ms`);
      assert.ok(took <= 1_000, `siblings signed out within a second (${took} ms)`);
      assert.match(await b.getByTestId('session-ended-reason').innerText(), /signed out in another tab/i);
      assert.equal(await b.evaluate(() => sessionStorage.getItem('oten.auth.tokens')), null);
      await a.waitForURL((u) => u.href.startsWith(`${IDP}/v1/oauth/logout`));
      await a.getByTestId('idp-logout-confirm').click();
      await a.waitForURL((u) => u.origin === APP && u.pathname === '/signed-out');
      await sleep(2_000);
      assert.deepEqual(withToken, [], 'no request carried the old tokens after the sign-out');
      assert.ok(!isLoginPage(b.url()) && !isLoginPage(c.url()), 'the siblings wait for a click instead of signing in');
      const end = await clientStats(clientId);
      assert.equal(end.refresh.presented_twice, 0);
    } finally {
      await close();
    }
  });

test('a tab opened fresh joins a signed-in sibling with no click and no redirect, unless switched off', { timeout: 180_000 }, async (t) => {
  for (const join of [true, false]) {
    const clientId = await leaseClient({ access_token_ttl: 30 });
    const { context, page: a, close } = await openPage(browser(), t);
    try {
      await useAppConfig(context, { client_id: clientId, join_sibling_tabs: join });
      await signInFromHome(a, ALICE);
      const fresh = await context.newPage();
      // The IdP's hops are redirects (no page commits there): watch the requests.
      const authorizations = recordAuthorizations(fresh);
      const tokenRequests = recordTokenRequests(fresh);
      await fresh.goto(`${APP}/profile`);
      if (join) {
        await fresh.getByTestId('profile-name').waitFor();
        assert.deepEqual(authorizations, [], 'joined without visiting the IdP');
        assert.deepEqual(tokenRequests, [], 'joined without a token request');
        const [mine, theirs] = await Promise.all([fresh, a].map((p) => p.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.tokens')))));
        assert.equal(mine.lineage, theirs.lineage, 'the same session');
      } else {
        // Switched off: the fresh tab signs in on its own (the IdP session makes it quick, but it is a sign-in).
        await fresh.getByTestId('profile-name').waitFor();
        assert.equal(authorizations.length, 1, 'with join_sibling_tabs: false the tab signed in at the IdP');
        assert.ok(tokenRequests.includes('authorization_code'));
      }
      assert.equal((await clientStats(clientId)).refresh.presented_twice, 0);
    } finally {
      await close();
    }
  }
});
