// The pool of test clients (TEST_ROUTES=1): 32 public clients `e2e-01` … `e2e-32`, registered statically
// with the same metadata as `spa-dev` (see dev/idp.mjs). A test leases one (POST /test/clients, see
// dev/test-routes.mjs) and owns it: its access-token lifetime, its fault queue (dev/faults.mjs), its
// API refusal switch, its step-up age and its counters (dev/client-stats.mjs) are reset by every lease, so tests running
// in parallel never see each other's faults or counts. Leases go round-robin through the pool.

import { ClientStats } from './client-stats.mjs';

export const TEST_CLIENT_COUNT = 32;

/** e2e-01 … e2e-32. */
export const TEST_CLIENT_IDS = Object.freeze(
  Array.from({ length: TEST_CLIENT_COUNT }, (_, i) => `e2e-${String(i + 1).padStart(2, '0')}`),
);

/** The state of one lease: settings, faults and counters. */
const freshLease = ({ accessTokenTtl, requireDpopNonce = false } = {}) => ({
  /** Access-token lifetime in seconds, or undefined for the global ACCESS_TOKEN_TTL. */
  accessTokenTtl,
  /** Whether the IdP requires a nonce in this client's DPoP proofs (answering use_dpop_nonce without one). */
  requireDpopNonce,
  /** Pending faults, oldest first (see dev/faults.mjs). */
  faults: [],
  /** While true the resource API refuses this client's tokens with 401 invalid_token. */
  refuseApi: false,
  /** The step-up route's maximum sign-in age for this client's tokens (seconds), or undefined for the default. */
  stepUpMaxAge: undefined,
  stats: new ClientStats(),
});

/**
 * Creates the registry of test clients. `fixedIds` (the backend's confidential client) get faults, counters and the
 * API switch too, but are never leased: their lease is reset with POST /test/clients/:id/reset.
 */
export const createTestClients = ({ fixedIds = [] } = {}) => {
  const leases = new Map([...TEST_CLIENT_IDS, ...fixedIds].map((id) => [id, freshLease()]));
  let next = 0;

  return {
    ids: TEST_CLIENT_IDS,
    has: (clientId) => leases.has(clientId),
    /** The current lease state of `clientId`, or undefined when it is not a test client. */
    get: (clientId) => leases.get(clientId),
    /** Leases the next client round-robin with fresh settings, faults and counters; returns its id. */
    lease: (settings = {}) => {
      const clientId = TEST_CLIENT_IDS[next];
      next = (next + 1) % TEST_CLIENT_IDS.length;
      leases.set(clientId, freshLease(settings));
      return clientId;
    },
    /** Resets a fixed client's settings, faults and counters (its id stays registered). */
    reset: (clientId) => {
      if (!fixedIds.includes(clientId)) return false;
      leases.set(clientId, freshLease());
      return true;
    },
    /** The access-token lifetime set for `clientId`, or undefined (then the global one applies). */
    accessTokenTtl: (clientId) => leases.get(clientId)?.accessTokenTtl,
  };
};
