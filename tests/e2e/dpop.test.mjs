// DPoP (RFC 9449) end to end: the dev IdP offers it, so the app binds its tokens to a non-extractable WebCrypto key
// kept in IndexedDB. A token copied out of sessionStorage is refused without the key; a sibling tab of the grant
// shares the key; sign-out deletes it; a missing key ends the session cleanly; a provider that asks for a nonce gets
// the same refresh token once more with it (not a reuse); and a provider without DPoP keeps Bearer tokens working.

import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';

import {
  ALICE, API, APP, IDP, clientStats, duplicateTab, openLeasedPage, recordTokenRequests, signInAtIdp, signOutAndConfirm,
  storedTokens, tokenState, useBrowser,
} from './browser.mjs';

const browser = useBrowser();

/** The DPoP keys in the app's IndexedDB: id → {extractable, algorithm, usages, public jwk}. */
const storedKeys = (page) => page.evaluate(async () => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('oten-auth-dpop');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  if (!db.objectStoreNames.contains('keys')) { db.close(); return {}; }
  const read = (what) => new Promise((resolve) => {
    const req = db.transaction('keys').objectStore('keys')[what]();
    req.onsuccess = () => resolve(req.result);
  });
  const [keys, values] = [await read('getAllKeys'), await read('getAll')];
  db.close();
  return Object.fromEntries(keys.map((k, i) => [k, {
    extractable: values[i].private.extractable,
    algorithm: `${values[i].private.algorithm.name} ${values[i].private.algorithm.namedCurve}`,
    usages: values[i].private.usages,
    jwk: JSON.parse(values[i].jwk),
  }]));
});

const signIn = async (page) => {
  await page.goto(`${APP}/`);
  await page.getByTestId('sign-in').click();
  await signInAtIdp(page, ALICE);
  await page.waitForURL((url) => url.origin === APP && url.pathname === '/');
  await page.getByTestId('user-name').waitFor();
};

const profileThroughThePage = async (page) => {
  await page.goto(`${APP}/profile`);
  await page.getByTestId('profile-name').waitFor();
};

/** A DPoP proof made in Node with a key of its own (a thief's), for `token` at the API's profile route. */
const foreignProof = (token) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const ath = createHash('sha256').update(token).digest('base64url');
  const input = `${part({ typ: 'dpop+jwt', alg: 'ES256', jwk })}.${part({
    jti: `thief-${Date.now()}`, htm: 'GET', htu: `${API}/api/user/profile`, iat: Math.floor(Date.now() / 1000), ath,
  })}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
};

test('tokens are bound to a non-extractable key; a copy of the token alone is refused', async (t) => {
  const { page, clientId, close } = await openLeasedPage(browser(), t);
  try {
    await signIn(page);
    const tokens = await storedTokens(page);
    assert.equal(tokens.token_type, 'DPoP', 'the IdP bound the tokens');
    assert.match(tokens.dpop_key, /^[A-Za-z0-9_-]{16,}$/, 'the session names its key by id');
    const keys = await storedKeys(page);
    assert.deepEqual(Object.keys(keys), [tokens.dpop_key], 'one key, under that id');
    const key = keys[tokens.dpop_key];
    assert.equal(key.extractable, false, 'the private key cannot be read, even by the app');
    assert.equal(key.algorithm, 'ECDSA P-256');
    assert.deepEqual(key.usages, ['sign']);
    assert.equal(key.jwk.d, undefined, 'only the public half is stored in the clear');
    assert.deepEqual(await tokenState(tokens), {
      access_token: { active: true, bound: true }, refresh_token: { active: true, bound: true },
    });

    // Through the page (which holds the key) the API answers.
    await profileThroughThePage(page);

    // The same token, replayed from elsewhere: as Bearer, as DPoP without a proof, with a thief's own proof.
    const replay = async (headers) => {
      const res = await fetch(`${API}/api/user/profile`, { headers });
      await res.arrayBuffer();
      return [res.status, res.headers.get('www-authenticate') ?? ''];
    };
    const [bearer] = await replay({ authorization: `Bearer ${tokens.access_token}` });
    const [noProof, noProofChallenge] = await replay({ authorization: `DPoP ${tokens.access_token}` });
    const [thief, thiefChallenge] = await replay({
      authorization: `DPoP ${tokens.access_token}`, dpop: foreignProof(tokens.access_token),
    });
    assert.deepEqual([bearer, noProof, thief], [401, 401, 401], 'the token alone is useless');
    assert.match(noProofChallenge, /DPoP .*invalid_dpop_proof/);
    assert.match(thiefChallenge, /not the token's|invalid_dpop_proof/);

    // The refresh token alone is refused at the token endpoint too, and it is not consumed by the attempt.
    const stolen = await fetch(`${IDP}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId }),
    });
    await stolen.arrayBuffer();
    assert.equal(stolen.status >= 400, true, 'a refresh without the key is refused');
    assert.equal((await tokenState(tokens)).refresh_token.active, true, 'and the session goes on');
    await profileThroughThePage(page);
  } finally {
    await close();
  }
});

test('a sibling tab of the grant shares the key; sign-out deletes it', async (t) => {
  const { context, page, close } = await openLeasedPage(browser(), t);
  try {
    await signIn(page);
    const { dpop_key: id } = await storedTokens(page);
    const dup = await duplicateTab(context, page, '/profile');
    await dup.getByTestId('profile-name').waitFor();
    assert.equal((await storedTokens(dup)).dpop_key, id, 'the copy names the same key');
    assert.deepEqual(Object.keys(await storedKeys(dup)), [id], 'and no second key was made');

    await signOutAndConfirm(page);
    let left;
    for (let i = 0; i < 50; i += 1) {
      left = Object.keys(await storedKeys(page));
      if (left.length === 0) break;
      await page.waitForTimeout(100);
    }
    assert.deepEqual(left, [], 'the key is deleted at sign-out');
    await dup.reload();
    await dup.getByTestId('sign-in').waitFor();
  } finally {
    await close();
  }
});

test('a missing key ends the session cleanly at the next page load', async (t) => {
  const { page, clientId, pageErrors, close } = await openLeasedPage(browser(), t);
  try {
    await signIn(page);
    const tokens = await storedTokens(page);
    // Site data cleared behind the app's back (IndexedDB only; sessionStorage keeps the bound tokens).
    await page.evaluate((id) => new Promise((resolve, reject) => {
      const open = indexedDB.open('oten-auth-dpop');
      open.onsuccess = () => {
        const tx = open.result.transaction('keys', 'readwrite');
        tx.objectStore('keys').delete(id);
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
    }), tokens.dpop_key);
    const before = await clientStats(clientId);
    await page.goto(`${APP}/profile`);
    await page.getByTestId('session-ended').waitFor();
    assert.match(await page.getByTestId('session-ended-reason').innerText(), /key/i, 'the reason is told');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('oten.auth.tokens')), null, 'the useless tokens are gone');
    const after = await clientStats(clientId);
    assert.deepEqual(after.api.by_status, before.api.by_status, 'the API saw nothing (nothing was sent without a proof)');
    assert.equal(after.refresh.presented, before.refresh.presented, 'no refresh was presented');
    assert.deepEqual(pageErrors, []);
  } finally {
    await close();
  }
});

test('a provider asking for a nonce gets the same refresh token once more, which is not a reuse', async (t) => {
  const { page, clientId, close } = await openLeasedPage(browser(), t, { require_dpop_nonce: true, access_token_ttl: 30 });
  try {
    await signIn(page);
    // A page load forgets the nonces (they live in memory): the next refresh's first proof has none.
    await page.reload();
    await page.getByTestId('user-name').waitFor();
    const grants = recordTokenRequests(page);
    const before = await storedTokens(page);
    await page.goto(`${APP}/session`);
    await page.getByTestId('refresh-now').click();
    await page.waitForFunction((old) => JSON.parse(sessionStorage.getItem('oten.auth.tokens') ?? '{}').access_token !== old,
      before.access_token);
    assert.deepEqual(grants, ['refresh_token', 'refresh_token'], 'the refresh was sent twice: without, then with the nonce');
    const stats = await clientStats(clientId);
    assert.equal(stats.dpop_nonce_asked >= 2, true, `the IdP asked for a nonce (at the exchange and the refresh): ${JSON.stringify(stats)}`);
    assert.equal(stats.refresh.presented, 1, 'one presentation counted: the one the IdP processed');
    assert.equal(stats.refresh.consumed, 1);
    assert.equal(stats.refresh.reuse, 0, 'no reuse');
    assert.equal(stats.refresh.presented_twice, 0);
    await profileThroughThePage(page);
  } finally {
    await close();
  }
});

test('without DPoP at the provider, Bearer tokens work as before', async (t) => {
  const { context, page, close } = await openLeasedPage(browser(), t);
  try {
    // The provider's metadata without dpop_signing_alg_values_supported (as with DPOP=0, for this context only).
    await context.route(`${IDP}/.well-known/openid-configuration`, async (route) => {
      const res = await route.fetch();
      const meta = await res.json();
      delete meta.dpop_signing_alg_values_supported;
      await route.fulfill({ response: res, json: meta });
    });
    await signIn(page);
    const tokens = await storedTokens(page);
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.dpop_key, undefined);
    assert.deepEqual(Object.keys(await storedKeys(page)), [], 'no key made');
    assert.deepEqual(await tokenState(tokens), {
      access_token: { active: true, bound: false }, refresh_token: { active: true, bound: false },
    });
    await profileThroughThePage(page);
  } finally {
    await close();
  }
});
