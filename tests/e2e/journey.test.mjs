// A journey over the whole product, checked for accessibility and photographed as it goes: signed out, signed in,
// the profile read, edited and refused, a refresh watched on /session with a short token, /security, signed out.
// Every page is checked with axe-core (from npm, injected with page.evaluate: no script tag, nothing bypassed) in
// light and dark, and photographed in both at desktop and phone width into artifacts/journey/. Alice's bio is the
// only thing it changes (no other test reads it). All along, no token may be anywhere but sessionStorage, the API's
// Authorization header and the IdP's token and revocation requests (SECURITY.md #7, #9: `watchTokens`).

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  ALICE, APP, ARTIFACTS, leaseClient, openPage, signInAtIdp, signOutAndConfirm, useAppConfig, useBrowser, watchTokens,
} from './browser.mjs';

const browser = useBrowser();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = join(ARTIFACTS, 'journey');
mkdirSync(SHOTS, { recursive: true });
const WIDTHS = { desktop: { width: 1280, height: 800 }, phone: { width: 360, height: 740 } };

/** axe-core's serious and critical violations on the page as it is, as readable lines. */
const seriousViolations = async (page) => {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
};

/** Checks `page` in light and dark (axe at desktop width) and photographs it at both widths. */
const checkPage = async (page, name, problems) => {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [label, size] of Object.entries(WIDTHS)) {
      await page.setViewportSize(size);
      await page.screenshot({ path: join(SHOTS, `${name}-${scheme}-${label}.png`), fullPage: true });
      // Nothing wider than the phone: no sideways scrolling at 360 px.
      if (label === 'phone') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) problems.push(`${name} (${scheme}): ${overflow} px wider than a 360 px phone`);
      }
    }
    await page.setViewportSize(WIDTHS.desktop);
    for (const v of await seriousViolations(page)) problems.push(`${name} (${scheme}): ${v}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
};

test('the whole journey is accessible in light and dark, at desktop and phone width', { timeout: 120_000 }, async (t) => {
  const clientId = await leaseClient({ access_token_ttl: 8 });
  const { context, page, close } = await openPage(browser(), t);
  const problems = [];
  const leaks = watchTokens(context);
  try {
    await useAppConfig(context, { client_id: clientId });
    await page.goto(`${APP}/`);
    await page.getByTestId('sign-in-main').waitFor();
    await checkPage(page, '1-home-signed-out', problems);

    await page.getByTestId('sign-in').click();
    await signInAtIdp(page, ALICE);
    await page.waitForURL(`${APP}/`);
    await page.getByTestId('lifetime-bar').waitFor();
    assert.equal((await leaks.check(page)).in_session_storage, true, 'the check finds the tokens where they are');
    await checkPage(page, '2-home', problems);

    await page.getByRole('link', { name: 'Profile', exact: true }).click();
    await page.getByTestId('profile-name').waitFor();
    await checkPage(page, '3-profile', problems);
    await page.getByLabel('Bio', { exact: true }).fill('Walked through the whole journey.');
    await page.getByTestId('profile-save').click();
    await page.getByTestId('profile-status').filter({ hasText: 'Saved.' }).waitFor();
    const name = page.getByLabel('Name', { exact: true });
    const saved = await name.inputValue();
    await name.fill('<Alice>');
    await page.getByTestId('profile-save').click();
    await page.getByTestId('profile-name-problem').filter({ hasText: 'cannot contain' }).waitFor();
    await checkPage(page, '4-profile-refused', problems);
    await page.getByTestId('profile-discard').click();
    assert.equal(await name.inputValue(), saved);

    await page.getByRole('link', { name: 'Session', exact: true }).click();
    await page.getByTestId('refresh-history').filter({ hasText: 'renewed at the IdP' }).waitFor({ timeout: 15_000 });
    await checkPage(page, '5-session', problems);
    const afterRefresh = await leaks.check(page);
    assert.ok(afterRefresh.looked_for >= 4, `the rotated tokens are looked for too (${afterRefresh.looked_for})`);

    await page.getByRole('link', { name: 'Security', exact: true }).click();
    await page.waitForURL(`${APP}/security`);
    await page.locator('main h1').waitFor();
    await checkPage(page, '6-security', problems);

    await signOutAndConfirm(page);
    await checkPage(page, '7-signed-out', problems);
    assert.equal((await leaks.check(page)).in_session_storage, false, 'sign-out left no token in sessionStorage');

    assert.deepEqual(problems, [], `accessibility and layout problems:\n${problems.join('\n')}`);
  } finally {
    await close();
  }
});
