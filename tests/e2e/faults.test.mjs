// Faults at the IdP's token endpoint × the three ways a refresh starts: in the background, after an API's 401, and
// at page load. Transient faults keep the tokens and the next healthy refresh succeeds; a refused or unusable
// answer ends the session once, with a readable reason on /login and no loop; no refresh token is ever presented
// twice (the IdP counts every presentation per token).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ALICE, APP, IDP, addFault, press, clientStats, eventually, leaseClient, openPage, signInFromHome, sleep, useAppConfig,
  useBrowser,
  recordAuthorizations,
} from './browser.mjs';

const browser = useBrowser();

/** The faults, and what a person sees afterwards. */
const FAULTS = [
  { kind: 'status_500', ends: false },
  { kind: 'status_503', retry_after: 1, ends: false },
  { kind: 'timeout', ends: false },
  { kind: 'drop', ends: false },
  { kind: 'malformed', ends: false },
  { kind: 'slow', delay_ms: 800, ends: false },
  { kind: 'unusable_2xx', ends: false }, // rotated, with a refresh token to go on with
  { kind: 'invalid_grant', ends: /no longer accepts it/i },
  { kind: 'unusable_2xx_no_refresh', ends: /could not be renewed/i },
];

const storedTokens = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('oten.auth.tokens') ?? 'null'));

/** Signs in (again, after an ended session: the IdP session is alive, so no form) and opens /profile. */
const signedInOnProfile = async (page) => {
  const path = new URL(page.url()).pathname;
  if (path === '/login') {
    // After a second ended session within minutes the loop guard offers "Try again" instead.
    await page.getByTestId('sign-in-again').or(page.getByTestId('try-again')).first().click();
    await page.waitForURL((u) => u.origin === APP && u.pathname === '/profile');
  } else if (path !== '/profile') {
    await signInFromHome(page, ALICE);
    await page.goto(`${APP}/profile`);
  }
  await page.getByTestId('profile-name').waitFor();
};

/** Refreshes the IdP consumes on its own for this fault (processed-then-rewritten answers, or a slow success). */
const consumedByTheFault = (kind) => (kind === 'slow' || kind === 'unusable_2xx' ? 1 : 0);

/** After a fault: either the session went on (tokens kept, and a later refresh succeeded), or it ended once. */
const checkOutcome = async (page, clientId, fault, before) => {
  if (fault.ends) {
    // The reason is shown and /login waits for a click; when a session ended shortly before (the previous fault
    // here), the loop guard says so too ("session-ended-again").
    await page.getByTestId('session-ended').or(page.getByTestId('session-ended-again')).first().waitFor({ timeout: 15_000 });
    assert.match(await page.getByTestId('session-ended-reason').innerText(), fault.ends, fault.kind);
    assert.equal(await storedTokens(page), null, `${fault.kind}: tokens cleared`);
    const authorizations = recordAuthorizations(page);
    await sleep(1_500);
    assert.deepEqual(authorizations, [], `${fault.kind}: /login waits for a click (no loop)`);
  } else {
    // The person keeps using the page; once the backoff has passed, a healthy refresh renews the session.
    const wanted = before.refresh.consumed + consumedByTheFault(fault.kind) + (fault.kind === 'slow' ? 0 : 1);
    await eventually(async () => {
      await press(page, 'profile-reload');
      await page.getByTestId('profile-name').or(page.getByTestId('profile-error')).first().waitFor();
      const ok = (await page.getByTestId('profile-error').count()) === 0;
      return ok && (await clientStats(clientId)).refresh.consumed >= wanted;
    }, 20_000, `${fault.kind}: a healthy refresh and a working API call`);
    assert.ok(await storedTokens(page), `${fault.kind}: still signed in`);
  }
  const stats = await clientStats(clientId);
  assert.equal(stats.refresh.presented_twice, 0, `${fault.kind}: no refresh token presented twice`);
  assert.equal(stats.refresh.reuse, 0, `${fault.kind}: no reuse detected`);
};

/** Each trigger starts one refresh while the fault is queued (`queue` queues it at the right moment). */
const TRIGGERS = {
  // The background check refreshes a due token (3 s tokens are due after 1.5 s).
  background: { ttl: 3, start: async (page, clientId, queue) => queue() },
  // The API refuses the access token (revoked at the IdP), the client refreshes after the 401.
  'after a 401': {
    ttl: 60,
    start: async (page, clientId, queue) => {
      const { access_token: token } = await storedTokens(page);
      const revoked = await fetch(`${IDP}/v1/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: clientId }),
      });
      assert.equal(revoked.status, 200);
      await queue();
      await press(page, 'profile-reload');
    },
  },
  // The page loads with an expired token: its first API call refreshes it.
  'at page load': {
    ttl: 3,
    start: async (page, clientId, queue) => {
      await page.goto('about:blank'); // the tab keeps its sessionStorage
      await sleep(3_200);
      await queue();
      await page.goto(`${APP}/profile`);
    },
  },
};

for (const [name, trigger] of Object.entries(TRIGGERS)) {
  test(`faults at the token endpoint, refresh ${name}`, { timeout: 240_000 }, async (t) => {
    const clientId = await leaseClient({ access_token_ttl: trigger.ttl });
    const { context, page, close } = await openPage(browser(), t);
    try {
      await useAppConfig(context, { client_id: clientId, request_timeout_ms: 1_500 });
      for (const fault of FAULTS) {
        await signedInOnProfile(page);
        const { ends, ...spec } = fault;
        const before = await clientStats(clientId);
        await trigger.start(page, clientId, () => addFault(clientId, { endpoint: 'token', ...spec }));
        await eventually(async () => (await clientStats(clientId)).faults_applied > before.faults_applied, 15_000,
          `${fault.kind}: the fault to apply`);
        await checkOutcome(page, clientId, fault, before);
        t.diagnostic(`${name} × ${fault.kind}: ${ends ? 'ended once, reason shown' : 'kept, next refresh ok'}`);
      }
    } finally {
      await close();
    }
  });
}
