// The two freeze cases of two tabs sharing a session, with real freezing (Chrome DevTools Protocol,
// Page.setWebLifecycleState) — see the README, "A tab that freezes":
//
// 1. A tab frozen while it holds the session's refresh lock, before its request left: the other tab goes on after
//    the lock timeout; the thawed tab sends nothing with its stale refresh token and takes the newest tokens.
// 2. A tab frozen after its request left: the newest refresh token may exist only in the frozen tab, so the other
//    tab never presents the old one; it uses its still-valid access token, then signs in afresh (no click). The
//    frozen tab, thawed, carries on with its own rotation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  ALICE, APP, IDP, addFault, press, clientStats, duplicateTab, eventually, freeze, launchFreezable, leaseClient,
  recordTokenRequests, signInFromHome, sleep, thaw, useAppConfig,
  recordAuthorizations,
} from './browser.mjs';

let chrome;
before(async () => { chrome = await launchFreezable(); });
after(async () => { await chrome?.close(); });

/** The session's refresh-lock requests that wait, seen from `page` (navigator.locks.query()). */
const pendingRefreshLocks = (page) => page.evaluate(async () => {
  const { pending } = await navigator.locks.query();
  return pending.filter((l) => l.name.startsWith('oten.auth.refresh.')).length;
});

const storedSeq = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.tokens') ?? 'null')?.seq ?? null);

/** Two tabs of one fresh session (a signs in, b is its duplicate), both on /profile. */
const twoTabs = async (clientId, config) => {
  const { context } = chrome;
  await context.clearCookies(); // the tests share Chromium's default context: no IdP session from the last one
  await useAppConfig(context, { client_id: clientId, ...config });
  const a = await context.newPage();
  await signInFromHome(a, ALICE);
  await a.goto(`${APP}/profile`);
  await a.getByTestId('profile-name').waitFor();
  const b = await duplicateTab(context, a, '/profile');
  await b.getByTestId('profile-name').waitFor();
  return { a, b, requests: { a: recordTokenRequests(a), b: recordTokenRequests(b) } };
};

/** Reloads the profile: true when it loads, else the error the page shows. */
const profileWorks = async (page) => {
  await press(page, 'profile-reload');
  await page.getByTestId('profile-name').or(page.getByTestId('profile-error')).first().waitFor();
  const error = page.getByTestId('profile-error');
  return (await error.count()) === 0 || `the page shows: ${await error.innerText()}`;
};

test('frozen holding the lock before its request left: the other tab goes on; the thawed one sends nothing', { timeout: 120_000 }, async (t) => {
  // 20 s tokens are due 10 s before expiry; a 5 s request timeout makes the lock timeout 8 s.
  const clientId = await leaseClient({ access_token_ttl: 20 });
  const { a, b, requests } = await twoTabs(clientId, { request_timeout_ms: 5000 });
  try {
    // The first refresh is slow, so one tab holds the lock while the other queues behind it.
    await addFault(clientId, { endpoint: 'token', kind: 'slow', delay_ms: 3000 });
    const [holder, waiter] = await eventually(async () => {
      if (requests.a.includes('refresh_token')) return [a, b];
      if (requests.b.includes('refresh_token')) return [b, a];
      return null;
    }, 20_000, 'the first refresh');
    await press(waiter, 'profile-reload'); // a call with a due token starts the waiter's refresh
    await eventually(async () => (await pendingRefreshLocks(holder)) > 0, 3_000, 'the other tab to queue for the lock');
    const cdp = await freeze(waiter);
    const waiterRequests = waiter === a ? requests.a : requests.b;
    const sentBefore = waiterRequests.length;
    // The holder finishes; the lock passes to the frozen tab, whose request has not left.
    await eventually(async () => (await clientStats(clientId)).refresh.consumed >= 1, 10_000, 'the first refresh');
    // The holder's next refresh waits for the lock, times out, finds no presentation marked, and goes on.
    await eventually(async () => (await clientStats(clientId)).refresh.consumed >= 2, 30_000, 'the refresh after the lock timeout');
    assert.equal(await profileWorks(holder), true, 'the holder kept working');
    await thaw(cdp);
    await sleep(1_500);
    assert.equal(waiterRequests.length, sentBefore, 'the thawed tab sent no token request');
    assert.equal(await storedSeq(waiter), await storedSeq(holder), 'it took the newest tokens instead');
    assert.equal(await profileWorks(waiter), true, 'and works');
    const stats = await clientStats(clientId);
    t.diagnostic(`case 1: ${stats.refresh.presented} refreshes, ${stats.refresh.presented_twice} presented twice`);
    assert.equal(stats.refresh.presented_twice, 0);
    assert.equal(stats.refresh.reuse, 0);
  } finally {
    await a.close();
    await b.close();
  }
});

test('frozen after its request left: the other tab never presents the old token, then signs in afresh', { timeout: 120_000 }, async (t) => {
  // 12 s tokens are due 6 s before expiry; a 2 s request timeout makes the lock timeout 5 s.
  const clientId = await leaseClient({ access_token_ttl: 12 });
  const { a, b, requests } = await twoTabs(clientId, { request_timeout_ms: 2000 });
  try {
    // The first refresh reaches the IdP, which consumes the token after 1.5 s; the sender is frozen meanwhile.
    await addFault(clientId, { endpoint: 'token', kind: 'slow', delay_ms: 1500 });
    const [sender, other] = await eventually(async () => {
      if (requests.a.includes('refresh_token')) return [a, b];
      if (requests.b.includes('refresh_token')) return [b, a];
      return null;
    }, 15_000, 'the first refresh');
    const cdp = await freeze(sender);
    const otherRequests = sender === a ? requests.b : requests.a;
    const visited = [];
    other.on('framenavigated', (f) => { if (f === other.mainFrame()) visited.push(f.url()); });
    const authorizations = recordAuthorizations(other);
    // While its access token is comfortably valid the other tab keeps working with it, presenting no refresh token.
    // In the token's last quarter (3 s here) a call waits for the refresh, which waits for the frozen tab's lock
    // until it times out, and the provider (counting whole seconds from issue) may already refuse the token then.
    const { expires_at: expiresAt } = await other.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.tokens')));
    const until = Math.min(Date.now() + 4_000, expiresAt - 3_500);
    let checks = 0;
    do {
      assert.equal(await profileWorks(other), true, 'the still-valid access token is used');
      checks += 1;
      await sleep(300);
    } while (Date.now() < until);
    t.diagnostic(`case 2: the other tab's API call worked ${checks} times while the sender was frozen`);
    assert.ok(!otherRequests.includes('refresh_token'), 'the other tab never presented the refresh token');
    // At expiry it signs in afresh, without a click (the IdP session is alive).
    await eventually(async () => authorizations.length > 0, 15_000, 'a fresh sign-in');
    await other.waitForURL((u) => u.origin === APP && u.pathname === '/profile', { timeout: 15_000 });
    await other.getByTestId('profile-name').waitFor();
    assert.equal(authorizations.length, 1, 'one sign-in');
    assert.ok(!otherRequests.includes('refresh_token'), 'still no refresh token presented by the other tab');
    assert.ok(otherRequests.includes('authorization_code'), 'it signed in afresh');
    assert.ok(visited.some((u) => u.startsWith(`${APP}/login`)), 'through /login');
    // The frozen tab wakes up, gets its answer and carries on with its own rotation.
    await thaw(cdp);
    await eventually(async () => (await storedSeq(sender)) >= 1, 10_000, 'the thawed tab to store its rotation');
    assert.equal(await profileWorks(sender), true);
    const stats = await clientStats(clientId);
    t.diagnostic(`case 2: ${stats.refresh.presented} refreshes, ${stats.refresh.presented_twice} presented twice`);
    assert.equal(stats.refresh.presented_twice, 0);
    assert.equal(stats.refresh.reuse, 0);
  } finally {
    await a.close();
    await b.close();
  }
});
