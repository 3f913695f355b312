// The dev stack's test machinery (TEST_ROUTES=1), without a browser: leased test clients with their own
// access-token lifetime, faults at the token and revocation endpoints, per-client counters and API
// refusal. Every test leases its own clients, so it can run in parallel with the other e2e files.
// It never ends an IdP session and never makes an authorization_code exchange fail at the provider:
// other files compare those global counters (GET /test/stats) exactly.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { API, APP, IDP } from './browser.mjs';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Calls a /test/* route; `body` is sent as JSON (or as is when it is a string). */
const testRoute = async (method, path, body) => {
  const res = await fetch(`${IDP}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
};

const lease = async (settings) => {
  const { status, body } = await testRoute('POST', '/test/clients', settings);
  assert.equal(status, 200, `lease: ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(body), ['client_id']);
  assert.match(body.client_id, /^e2e-\d\d$/);
  return body.client_id;
};

/** Real tokens for alice from the provider's own code flow, for `clientId` (default spa-dev). */
const session = async (clientId) => {
  const query = new URLSearchParams({ user: 'alice', ...(clientId ? { client_id: clientId } : {}) });
  const { status, body } = await testRoute('POST', `/test/session?${query}`);
  assert.equal(status, 200, `session: ${JSON.stringify(body)}`);
  assert.ok(body.access_token && body.refresh_token, 'the session has an access and a refresh token');
  return body;
};

const addFault = async (clientId, fault) => {
  const { status, body } = await testRoute('POST', `/test/clients/${clientId}/faults`, fault);
  assert.equal(status, 200, `fault: ${JSON.stringify(body)}`);
  return body;
};

const clientStats = async (clientId) => {
  const { status, body } = await testRoute('GET', `/test/clients/${clientId}/stats`);
  assert.equal(status, 200);
  return body;
};

/** A refresh exactly like a public client: form body with grant_type, refresh_token and client_id. */
const refresh = (clientId, refreshToken, init = {}) => fetch(`${IDP}/v1/oauth/token`, {
  method: 'POST',
  ...init,
  headers: { ...FORM, ...init.headers },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
});

/** Refreshes and expects success; returns the new token response. */
const refreshOk = async (clientId, refreshToken) => {
  const res = await refresh(clientId, refreshToken);
  const body = await res.json();
  assert.equal(res.status, 200, `refresh: ${JSON.stringify(body.error ? body : Object.keys(body))}`);
  assert.equal(body.token_type, 'Bearer');
  assert.ok(body.refresh_token && body.refresh_token !== refreshToken, 'the refresh token rotated');
  return body;
};

const profile = async (accessToken) => {
  const res = await fetch(`${API}/api/user/profile`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res;
};

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

test('a leased client has its own access-token lifetime; spa-dev keeps the global one', async () => {
  const short = await lease({ access_token_ttl: 3 });
  const plain = await lease();
  assert.notEqual(short, plain, 'two leases, two clients');

  const tokens = await session(short);
  assert.equal(tokens.expires_in, 3, 'expires_in is the lease\'s access_token_ttl');
  const spa = await session();
  const global = spa.expires_in;
  assert.ok(Number.isInteger(global) && global > 0, `spa-dev expires_in ${global}`);
  assert.notEqual(global, 3, 'spa-dev is not affected by the lease');
  assert.equal((await session(plain)).expires_in, global, 'a lease without access_token_ttl uses the global one');

  // The lifetime is real: the API takes the token now and refuses it once it has expired.
  assert.equal((await profile(tokens.access_token)).status, 200);
  const refreshed = await refreshOk(short, tokens.refresh_token);
  assert.equal(refreshed.expires_in, 3, 'refreshed access tokens get the lease\'s lifetime too');
  await sleep(4200);
  const expired = await profile(tokens.access_token);
  assert.equal(expired.status, 401, 'the short-lived access token expired');
});

test('unprocessed faults at the token endpoint answer as specified and leave the refresh token usable', async () => {
  const clientId = await lease();
  let { refresh_token: rt } = await session(clientId);

  const cases = [
    {
      kind: 'status_500',
      check: async (res) => {
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), { error: 'server_error' });
      },
    },
    {
      kind: 'status_503',
      retry_after: 7,
      headers: { origin: APP },
      check: async (res) => {
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '7');
        assert.equal(res.headers.get('access-control-allow-origin'), APP, 'CORS like the provider');
        assert.match(res.headers.get('access-control-expose-headers'), /Retry-After/);
        assert.deepEqual(await res.json(), { error: 'temporarily_unavailable' });
      },
    },
    {
      kind: 'timeout',
      abortAfterMs: 1500,
      check: async (res, err, elapsed) => {
        assert.equal(res, undefined, 'no answer');
        assert.equal(err?.name, 'AbortError', `aborted by the client (${err})`);
        assert.ok(elapsed >= 1400, `waited until the client gave up (${elapsed} ms)`);
      },
    },
    {
      kind: 'drop',
      check: async (res, err) => {
        assert.equal(res, undefined, 'no answer');
        assert.ok(err instanceof TypeError, `fetch rejected (${err})`);
      },
    },
    {
      kind: 'malformed',
      check: async (res) => {
        assert.equal(res.status, 502);
        assert.match(res.headers.get('content-type'), /^application\/json/);
        const text = await res.text();
        assert.equal(text, '{"error":"server_er');
        assert.throws(() => JSON.parse(text), SyntaxError);
      },
    },
    {
      kind: 'invalid_grant',
      check: async (res) => {
        assert.equal(res.status, 400);
        assert.deepEqual(await res.json(), { error: 'invalid_grant', error_description: 'grant request is invalid' });
      },
    },
  ];

  for (const { kind, check, abortAfterMs, headers, ...extra } of cases) {
    await addFault(clientId, { endpoint: 'token', kind, ...extra });
    const controller = new AbortController();
    const timer = abortAfterMs ? setTimeout(() => controller.abort(), abortAfterMs) : undefined;
    const started = Date.now();
    let res;
    let err;
    try {
      res = await refresh(clientId, rt, { signal: controller.signal, headers });
    } catch (e) {
      err = e;
    } finally {
      clearTimeout(timer);
    }
    if (err && !abortAfterMs && kind !== 'drop') throw err;
    await check(res, err, Date.now() - started);
    // Not processed: the same refresh token still works.
    rt = (await refreshOk(clientId, rt)).refresh_token;
    const stats = await clientStats(clientId);
    assert.equal(stats.refresh.presented_twice, 0, `${kind}: no refresh token reached the provider twice`);
  }

  const stats = await clientStats(clientId);
  assert.equal(stats.faults_applied, cases.length);
  assert.deepEqual(stats.token_requests, { authorization_code: 1, refresh_token: cases.length });
  assert.deepEqual(stats.token_errors, { authorization_code: 0, refresh_token: 0 });
  assert.deepEqual(stats.refresh, {
    presented: cases.length, consumed: cases.length, reuse: 0, presented_twice: 0, max_presentations: 1,
  });
});

test('slow and unusable_2xx faults are processed by the provider', async () => {
  const clientId = await lease();
  const { refresh_token: first } = await session(clientId);

  await addFault(clientId, { endpoint: 'token', kind: 'slow', delay_ms: 600 });
  const started = Date.now();
  const slow = await refreshOk(clientId, first);
  assert.ok(Date.now() - started >= 550, `answered after the delay (${Date.now() - started} ms)`);

  await addFault(clientId, { endpoint: 'token', kind: 'unusable_2xx' });
  const res = await refresh(clientId, slow.refresh_token);
  assert.equal(res.status, 200);
  const unusable = await res.json();
  assert.equal(unusable.token_type, 'N_A', 'a strict client refuses this answer');
  assert.ok(unusable.refresh_token && unusable.refresh_token !== slow.refresh_token, 'it carries a NEW refresh token');
  const after = await refreshOk(clientId, unusable.refresh_token);

  const stats = await clientStats(clientId);
  assert.equal(stats.faults_applied, 2);
  assert.deepEqual(stats.refresh, { presented: 3, consumed: 3, reuse: 0, presented_twice: 0, max_presentations: 1 });
  assert.ok(after.access_token);
});

test('unusable_2xx_no_refresh consumes the refresh token: presenting it again is reuse', async () => {
  const clientId = await lease();
  const { refresh_token: rt } = await session(clientId);

  await addFault(clientId, { endpoint: 'token', kind: 'unusable_2xx_no_refresh' });
  const res = await refresh(clientId, rt);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { result: 'ok' }, 'no tokens at all');

  const again = await refresh(clientId, rt);
  assert.equal(again.status, 400);
  assert.equal((await again.json()).error, 'invalid_grant', 'the old refresh token was consumed');

  const stats = await clientStats(clientId);
  assert.deepEqual(stats.refresh, { presented: 2, consumed: 1, reuse: 1, presented_twice: 1, max_presentations: 2 });
  assert.deepEqual(stats.token_errors, { authorization_code: 0, refresh_token: 1 });
  assert.equal(stats.faults_applied, 1);
});

test('times: a fault applies n times, 0 means until cleared; the oldest matching fault applies first', async () => {
  const clientId = await lease();
  let { refresh_token: rt } = await session(clientId);
  const statusOf = async () => {
    const r = await refresh(clientId, rt);
    const body = await r.json();
    if (r.status === 200) rt = body.refresh_token;
    return r.status;
  };

  await addFault(clientId, { endpoint: 'token', kind: 'status_500', times: 2 });
  assert.deepEqual([await statusOf(), await statusOf(), await statusOf()], [500, 500, 200]);

  // Faults for another endpoint or grant type do not match refresh requests.
  await addFault(clientId, { endpoint: 'revocation', kind: 'status_500' });
  await addFault(clientId, { endpoint: 'token', grant_type: 'authorization_code', kind: 'status_500' });
  await addFault(clientId, { endpoint: 'token', kind: 'invalid_grant' });
  const queued = await addFault(clientId, { endpoint: 'token', kind: 'status_503', times: 0 });
  assert.deepEqual(queued.faults.map((f) => f.kind), ['status_500', 'status_500', 'invalid_grant', 'status_503']);
  assert.deepEqual([await statusOf(), await statusOf(), await statusOf(), await statusOf()], [400, 503, 503, 503]);

  const cleared = await testRoute('DELETE', `/test/clients/${clientId}/faults`);
  assert.equal(cleared.status, 200);
  assert.deepEqual(cleared.body, { client_id: clientId, faults: [] });
  assert.equal(await statusOf(), 200);

  const stats = await clientStats(clientId);
  assert.equal(stats.faults_applied, 6);
  assert.equal(stats.token_requests.refresh_token, 2, 'only the unfaulted refreshes reached the provider');
  assert.equal(stats.refresh.presented_twice, 0);
});

test('an authorization_code fault applies to the code exchange of /test/session', async () => {
  const clientId = await lease();
  await addFault(clientId, { endpoint: 'token', grant_type: 'authorization_code', kind: 'status_500' });
  const failed = await testRoute('POST', `/test/session?user=alice&client_id=${clientId}`);
  assert.equal(failed.status, 500);
  assert.deepEqual(failed.body, { error: 'server_error' });
  await session(clientId);
  const stats = await clientStats(clientId);
  assert.equal(stats.faults_applied, 1);
  assert.deepEqual(stats.token_requests, { authorization_code: 1, refresh_token: 0 });
  assert.deepEqual(stats.token_errors, { authorization_code: 0, refresh_token: 0 });
});

test('a revocation fault answers without revoking; a later revocation works', async () => {
  const clientId = await lease();
  const { refresh_token: rt } = await session(clientId);
  const revoke = (token) => fetch(`${IDP}/v1/oauth/revoke`, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ token, token_type_hint: 'refresh_token', client_id: clientId }),
  });

  await addFault(clientId, { endpoint: 'revocation', kind: 'status_503', retry_after: 5 });
  const faulted = await revoke(rt);
  assert.equal(faulted.status, 503);
  assert.equal(faulted.headers.get('retry-after'), '5');
  assert.deepEqual(await faulted.json(), { error: 'temporarily_unavailable' });

  const next = await refreshOk(clientId, rt);
  const revoked = await revoke(next.refresh_token);
  assert.equal(revoked.status, 200);
  await revoked.arrayBuffer();
  const refused = await refresh(clientId, next.refresh_token);
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).error, 'invalid_grant', 'the revoked refresh token is refused');

  const stats = await clientStats(clientId);
  assert.equal(stats.faults_applied, 1);
  assert.equal(stats.revocations, 1, 'only the unfaulted revocation reached the provider');
});

test('faults and counters are per client', async () => {
  const a = await lease();
  const b = await lease();
  const ta = await session(a);
  const tb = await session(b);
  const spa = await session();

  await addFault(a, { endpoint: 'token', kind: 'status_500', times: 0 });
  const nb = await refreshOk(b, tb.refresh_token);
  await refreshOk('spa-dev', spa.refresh_token);
  const fa = await refresh(a, ta.refresh_token);
  assert.equal(fa.status, 500);
  await fa.arrayBuffer();
  await refreshOk(b, nb.refresh_token);

  const sa = await clientStats(a);
  const sb = await clientStats(b);
  assert.equal(sa.faults_applied, 1);
  assert.deepEqual(sa.token_requests, { authorization_code: 1, refresh_token: 0 });
  assert.equal(sa.refresh.presented, 0);
  assert.equal(sb.faults_applied, 0);
  assert.deepEqual(sb.token_requests, { authorization_code: 1, refresh_token: 2 });
  assert.deepEqual(sb.refresh, { presented: 2, consumed: 2, reuse: 0, presented_twice: 0, max_presentations: 1 });

  // The whole shape of a fresh lease.
  assert.deepEqual(await clientStats(await lease()), {
    token_requests: { authorization_code: 0, refresh_token: 0 },
    token_errors: { authorization_code: 0, refresh_token: 0 },
    faults_applied: 0,
    refresh: { presented: 0, consumed: 0, reuse: 0, presented_twice: 0, max_presentations: 0 },
    dpop_nonce_asked: 0,
    revocations: 0,
    end_sessions: 0,
    api: { by_status: {} },
  });
  await testRoute('DELETE', `/test/clients/${a}/faults`);
});

test('the API refuses every token of a client while refusal is on', async () => {
  const a = await lease();
  const b = await lease();
  const ta = await session(a);
  const tb = await session(b);

  const on = await testRoute('POST', `/test/clients/${a}/api`, { refuse: true });
  assert.equal(on.status, 200);
  assert.deepEqual(on.body, { client_id: a, refuse: true, step_up_max_age: null });
  const refused = await profile(ta.access_token);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="oten-dev-api", error="invalid_token", DPoP algs="ES256"');
  assert.equal((await profile(tb.access_token)).status, 200, 'another client is not refused');

  const off = await testRoute('POST', `/test/clients/${a}/api`, { refuse: false });
  assert.deepEqual(off.body, { client_id: a, refuse: false, step_up_max_age: null });
  assert.equal((await profile(ta.access_token)).status, 200);

  assert.deepEqual((await clientStats(a)).api, { by_status: { 200: 1, 401: 1 } });
  assert.deepEqual((await clientStats(b)).api, { by_status: { 200: 1 } });
});

test('the step-up route wants a recent sign-in; a refresh keeps the sign-in time', async () => {
  const clientId = await lease();
  const tokens = await session(clientId);
  const security = (token) => fetch(`${API}/api/user/security`, { headers: { authorization: `Bearer ${token}` } });
  const fresh = await security(tokens.access_token);
  assert.equal(fresh.status, 200);
  const { auth_time: authTime, max_age: maxAge } = await fresh.json();
  assert.ok(Math.abs(authTime - Date.now() / 1000) < 30, `auth_time ${authTime} is the sign-in's`);
  assert.equal(maxAge, 300, 'the default');

  const set = await testRoute('POST', `/test/clients/${clientId}/api`, { step_up_max_age: 0 });
  assert.deepEqual(set.body, { client_id: clientId, refuse: false, step_up_max_age: 0 });
  await new Promise((resolve) => { setTimeout(resolve, 1_100); });
  const old = await security(tokens.access_token);
  assert.equal(old.status, 401);
  assert.equal(
    old.headers.get('www-authenticate'),
    'Bearer realm="oten-dev-api", error="insufficient_user_authentication", '
      + 'error_description="A more recent sign-in is required", max_age="0"',
  );
  assert.equal((await old.json()).error, 'insufficient_user_authentication');

  await testRoute('POST', `/test/clients/${clientId}/api`, { step_up_max_age: 60 });
  const renewed = await (await refresh(clientId, tokens.refresh_token)).json();
  const after = await security(renewed.access_token);
  assert.equal(after.status, 200);
  assert.equal((await after.json()).auth_time, authTime, 'a refresh is not a new sign-in');
  assert.equal((await security('not-a-token')).status, 401);
});

test('bad input answers 400 with an error_description', async () => {
  const clientId = await lease();
  const bad = [
    ['POST', '/test/clients', { access_token_ttl: -1 }],
    ['POST', '/test/clients', { access_token_ttl: '5' }],
    ['POST', '/test/clients', { ttl: 5 }],
    ['POST', '/test/clients', '{not json'],
    ['GET', '/test/clients/e2e-99/stats'],
    ['GET', '/test/clients/spa-dev/stats'],
    ['POST', '/test/clients/nobody/faults', { endpoint: 'token', kind: 'status_500' }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', kind: 'explode' }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'userinfo', kind: 'status_500' }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', kind: 'status_500', times: -1 }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', kind: 'slow', delay_ms: -5 }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', kind: 'status_503', retry_after: -2 }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', kind: 'status_500', retry_after: 2 }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', grant_type: 'password', kind: 'status_500' }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'revocation', grant_type: 'refresh_token', kind: 'drop' }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'revocation', kind: 'unusable_2xx' }],
    ['POST', `/test/clients/${clientId}/faults`, { endpoint: 'token', kind: 'drop', time: 2 }],
    ['POST', `/test/clients/${clientId}/faults`, ['status_500']],
    ['POST', `/test/clients/${clientId}/faults`],
    ['POST', `/test/clients/${clientId}/api`, { refuse: 'yes' }],
    ['POST', `/test/clients/${clientId}/api`, {}],
    ['POST', `/test/clients/${clientId}/api`, { step_up_max_age: -1 }],
    ['POST', `/test/clients/${clientId}/api`, { step_up_max_age: '5' }],
    ['POST', `/test/clients/${clientId}/api`, { step_up_max_age: 1.5 }],
    ['POST', '/test/session?user=alice&client_id=nobody'],
    ['POST', '/test/session?user=mallory'],
  ];
  for (const [method, path, body] of bad) {
    const answer = await testRoute(method, path, body);
    const what = `${method} ${path} ${JSON.stringify(body)}`;
    assert.equal(answer.status, 400, `${what} → ${answer.status} ${JSON.stringify(answer.body)}`);
    assert.match(answer.headers.get('content-type'), /^application\/json/);
    assert.equal(typeof answer.body.error, 'string', what);
    assert.ok(answer.body.error_description?.length > 10, `${what}: ${JSON.stringify(answer.body)}`);
  }
  const queue = await testRoute('GET', `/test/clients/${clientId}/faults`);
  assert.deepEqual(queue.body, { client_id: clientId, faults: [] }, 'nothing was queued');
  assert.equal((await testRoute('GET', '/test/clients/e2e-01/nothing')).status, 404);
});

test('the test routes answer CORS for the app origin, DELETE included', async () => {
  const clientId = await lease();
  const preflight = await fetch(`${IDP}/test/clients/${clientId}/faults`, {
    method: 'OPTIONS',
    headers: { origin: APP, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP);
  assert.match(preflight.headers.get('access-control-allow-methods'), /\bDELETE\b/);
  const stats = await fetch(`${IDP}/test/clients/${clientId}/stats`, { headers: { origin: APP } });
  assert.equal(stats.headers.get('access-control-allow-origin'), APP);
  await stats.arrayBuffer();
  const foreign = await fetch(`${IDP}/test/clients/${clientId}/stats`, { headers: { origin: 'http://127.0.0.1:9002' } });
  assert.equal(foreign.headers.get('access-control-allow-origin'), null, 'no CORS for other origins');
  await foreign.arrayBuffer();
});
