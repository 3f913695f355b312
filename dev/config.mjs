// Settings of the dev stack, read once from the environment.
//
//   APP_ORIGINS       comma-separated origins of the SPA (default http://127.0.0.1:8080,http://localhost:8080)
//   ACCESS_TOKEN_TTL  access-token lifetime in seconds (default 300)
//   REFRESH_TOKEN_TTL refresh-token lifetime in seconds (default 86400)
//   STEP_UP_MAX_AGE   the oldest sign-in (seconds) the API's step-up route /api/user/security accepts (default 300)
//   AUTO_LOGIN        username signed in without showing the login form (tests only)
//   END_SESSION_POST=0 the end-session endpoint refuses POST (as oidc-provider 9 does by default)
//   DPOP=0            the IdP does not offer DPoP (RFC 9449; on by default, with nonces it hands out but does not
//                     require), so the app keeps Bearer tokens
//   TEST_ROUTES=1     enables /test/* on the IdP (dev/test-routes.mjs), allows the browser-test runner
//                     origin, and registers the test clients e2e-01 … e2e-32 with their per-client
//                     access-token lifetime, faults at the token/revocation endpoints and counters
//   BACKEND_ORIGINS   comma-separated origins of the Rust backend (crates/oten-backend), registered as the confidential
//                     client bff-dev (default http://127.0.0.1:9100,http://localhost:9100,http://127.0.0.1:9101);
//                     the first one receives back-channel logouts
//   BFF_CLIENT_SECRET the secret of bff-dev (default: a fixed dev-only value, also in dev/backend/*.json's env)
//   HOST              listen address (default 127.0.0.1; the stack never listens on other interfaces)

const positiveInt = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer number of seconds, got ${JSON.stringify(raw)}`);
  }
  return value;
};

const parseOrigins = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean).map((origin) => {
  const url = new URL(origin);
  if (url.origin !== origin) throw new Error(`APP_ORIGINS entry is not a bare origin: ${origin}`);
  return origin;
});

const host = '127.0.0.1';
const testRoutes = process.env.TEST_ROUTES === '1';

/** Origin of the wasm-bindgen-test runner page (WASM_BINDGEN_TEST_ADDRESS). */
export const TEST_RUNNER_ORIGIN = 'http://127.0.0.1:8099';

/** The dev-only secret of the backend's client; never a real one (scripts/dev passes it as OTEN_CLIENT_SECRET). */
export const DEV_BFF_CLIENT_SECRET = 'dev-only-secret-of-bff-dev-not-for-production-use-0001';

const appOrigins = parseOrigins(process.env.APP_ORIGINS || 'http://127.0.0.1:8080,http://localhost:8080');

export const config = Object.freeze({
  host,
  idpPort: 9000,
  apiPort: 9001,
  echoPort: 9002,
  issuer: `http://${host}:9000`,
  appOrigins,
  /** Origins allowed for CORS and as redirect targets: the app, plus the test runner in test mode. */
  allowedOrigins: Object.freeze([...new Set([...appOrigins, ...(testRoutes ? [TEST_RUNNER_ORIGIN] : [])])]),
  backendOrigins: Object.freeze(parseOrigins(
    process.env.BACKEND_ORIGINS || 'http://127.0.0.1:9100,http://localhost:9100,http://127.0.0.1:9101',
  )),
  bffClientSecret: process.env.BFF_CLIENT_SECRET || DEV_BFF_CLIENT_SECRET,
  accessTokenTtl: positiveInt('ACCESS_TOKEN_TTL', 300),
  refreshTokenTtl: positiveInt('REFRESH_TOKEN_TTL', 86400),
  stepUpMaxAge: positiveInt('STEP_UP_MAX_AGE', 300),
  autoLogin: process.env.AUTO_LOGIN || undefined,
  endSessionPost: process.env.END_SESSION_POST !== '0',
  dpop: process.env.DPOP !== '0',
  testRoutes,
});
