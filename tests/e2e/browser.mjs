// Shared helpers for the end-to-end tests: a headless system Chromium (never a downloaded browser),
// a fresh context per test, console/page-error capture, screenshots into artifacts/.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

export const APP = process.env.APP_URL ?? 'http://127.0.0.1:8080';
export const IDP = process.env.IDP_URL ?? 'http://127.0.0.1:9000';
export const API = process.env.API_URL ?? 'http://127.0.0.1:9001';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = join(REPO, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches one browser for the test file and closes it afterwards. Returns a getter. */
export const useBrowser = () => {
  let browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
};

/**
 * Opens a fresh context and page, recording console messages and page errors.
 * `close()` closes the context and throws if the page reported an uncaught error.
 */
export const openPage = async (browser, t) => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const consoleMessages = [];
  const pageErrors = [];
  page.on('console', (msg) => consoleMessages.push({ type: msg.type(), text: msg.text(), url: page.url() }));
  page.on('pageerror', (err) => pageErrors.push(err));
  const close = async () => {
    if (pageErrors.length) {
      await screenshot(page, `${slug(t?.name ?? 'page')}-error`).catch(() => {});
    }
    await context.close();
    if (pageErrors.length) {
      throw new Error(`page errors:\n${pageErrors.map((e) => `  ${e.stack ?? e}`).join('\n')}`);
    }
  };
  return { context, page, consoleMessages, pageErrors, close };
};

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Saves a full-page screenshot to artifacts/<name>.png and returns its path. */
export const screenshot = async (page, name) => {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
};

/** True when `url` is on the IdP's login page. */
export const isLoginPage = (url) => url.startsWith(`${IDP}/interaction/`);

/** Waits for the IdP login form, fills it in and submits it. */
export const signInAtIdp = async (page, { username, password }) => {
  await page.waitForURL((url) => isLoginPage(url.href));
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
};

export const ALICE = { username: 'alice', password: 'alice', name: 'Alice Example' };
export const BOB = { username: 'bob', password: 'bob', name: 'Bob Example' };

/** The IdP's counters (GET /test/stats, TEST_ROUTES=1): token requests per grant, revocations, end sessions. */
export const idpStats = async () => {
  const res = await fetch(`${IDP}/test/stats`);
  if (!res.ok) throw new Error(`GET /test/stats answered HTTP ${res.status} (is the stack running with TEST_ROUTES=1?)`);
  return res.json();
};

/** Signs in from the home page through the real IdP form and waits for the signed-in header. */
export const signInFromHome = async (page, user = ALICE) => {
  await page.goto(`${APP}/`);
  await page.getByTestId('sign-in').click();
  await signInAtIdp(page, user);
  await page.waitForURL((url) => url.origin === APP && url.pathname === '/');
  await page.getByTestId('user-name').waitFor({ state: 'visible' });
};

/** The parsed `oten.auth.tokens` from the page's sessionStorage, or null. */
export const storedTokens = async (page) => {
  const raw = await page.evaluate(() => sessionStorage.getItem('oten.auth.tokens'));
  return raw === null ? null : JSON.parse(raw);
};
