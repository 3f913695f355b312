// The local dev stack in one process: the IdP (:9000), the resource API (:9001) and the foreign echo
// server (:9002), all on 127.0.0.1. Start with `node dev/stack.mjs`; settings: see dev/config.mjs.
// With TEST_ROUTES=1: /test/* (dev/test-routes.mjs), the test clients e2e-01 … e2e-32
// (dev/test-clients.mjs), their counters (dev/client-stats.mjs) and faults at the token and revocation
// endpoints (dev/faults.mjs), which read those request bodies here, before the provider.

import { createServer } from 'node:http';

import { testUsers } from './accounts.mjs';
import { createApi } from './api.mjs';
import { attachClientStats } from './client-stats.mjs';
import { config } from './config.mjs';
import { createEcho } from './echo.mjs';
import { createFaults } from './faults.mjs';
import { listen, sendHtml, sendJson } from './http.mjs';
import { BFF_CLIENT_ID, createProvider, ROUTES } from './idp.mjs';
import { createInteractions } from './interactions.mjs';
import { createIdpStats } from './stats.mjs';
import { createTestClients } from './test-clients.mjs';
import { createTestRoutes } from './test-routes.mjs';

const testClients = config.testRoutes ? createTestClients({ fixedIds: [BFF_CLIENT_ID] }) : undefined;
const provider = createProvider({ ...config, testClients });
const stats = createIdpStats(provider, { routes: ROUTES });
const interactions = createInteractions({ provider, autoLogin: config.autoLogin });
const testRoutes = config.testRoutes
  ? createTestRoutes({
    issuer: config.issuer, allowedOrigins: config.allowedOrigins, stats, testClients, provider,
  })
  : undefined;
const faults = testClients
  ? createFaults({ provider, routes: ROUTES, testClients, allowedOrigins: config.allowedOrigins })
  : undefined;
if (testClients) attachClientStats(provider, { testClients });
const providerCallback = provider.callback();

const idpHandler = async (req, res) => {
  const url = new URL(req.url, config.issuer);
  try {
    if (url.pathname.startsWith('/interaction/')) return await interactions(req, res, url);
    if (url.pathname === '/test' || url.pathname.startsWith('/test/')) {
      if (!testRoutes) return sendJson(res, 404, { error: 'not_found' });
      return await testRoutes(req, res, url);
    }
    if (faults && await faults(req, res, url)) return undefined;
    return providerCallback(req, res);
  } catch (err) {
    const status = err.statusCode ?? err.status ?? 500;
    if (status >= 500) console.error('[idp] error', err);
    if (res.headersSent) return res.end();
    return sendHtml(res, status, `<!DOCTYPE html><title>Error</title><p>${status === 500 ? 'Server error' : 'Request failed'}: ${String(err.name).replace(/[^\w]/g, '')}</p>`);
  }
};

const servers = [];
const start = async (name, port, handler) => {
  const server = createServer(handler);
  server.keepAliveTimeout = 5000;
  await listen(server, config.host, port);
  servers.push(server);
  console.log(`[stack] ${name} listening on http://${config.host}:${port}`);
};

let stopping = false;
const shutdown = (signal) => {
  if (stopping) return;
  stopping = true;
  console.log(`[stack] ${signal}: shutting down`);
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

try {
  await start('idp', config.idpPort, idpHandler);
  await start('api', config.apiPort, createApi({
    // The app served by the backend (token-mediating mode) calls the API from the backend's origin.
    provider, allowedOrigins: [...config.allowedOrigins, ...config.backendOrigins], testClients,
    stepUpMaxAge: config.stepUpMaxAge, origin: `http://${config.host}:${config.apiPort}`,
  }));
  await start('echo', config.echoPort, createEcho({ allowedOrigins: config.allowedOrigins }));
} catch (err) {
  console.error(`[stack] failed to start: ${err.message}`);
  shutdown('startup failure');
  process.exitCode = 1;
}

if (!stopping) {
  console.log(`[stack] issuer ${config.issuer}; app origins ${config.allowedOrigins.join(', ')}; `
    + `access token TTL ${config.accessTokenTtl}s; test routes ${config.testRoutes ? `on (test clients ${testClients.ids[0]} … ${testClients.ids.at(-1)})` : 'off'}`
    + `${config.autoLogin ? `; AUTO_LOGIN=${config.autoLogin}` : ''}`);
  console.log(`[stack] users: ${testUsers.map((u) => `${u.username}/${u.password}`).join(', ')}`);
  if (faults) {
    console.log('[stack] token and revocation bodies are read before the provider (faults per test client): '
      + 'its one-time "already parsed request body" warning is expected');
  }
}
