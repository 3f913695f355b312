// Login and consent for the dev IdP, served at /interaction/:uid.
// Login is a real HTML form (alice/alice, bob/bob). Consent is granted automatically: the SPA is a
// first-party client. AUTO_LOGIN=<username> skips the form; the test routes use one-time tickets.

import { authenticate, findUserByUsername, testUsers } from './accounts.mjs';
import { escapeHtml, readBody, sendHtml } from './http.mjs';

/** uid → username: one-time automatic logins registered by the test routes. */
export const autoLoginTickets = new Map();

const page = ({ uid, clientName, username = '', error }) => `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Sign in – Oten dev IdP</title>
  <style>
    body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
    label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
    button{margin-top:1rem;width:100%;padding:.6rem;font-size:1rem}
    .error{color:#a40e26;background:#ffebe9;padding:.5rem;border-radius:4px}
    .hint{color:#57606a;font-size:.85rem}
  </style>
</head>
<body>
  <h1>Sign in</h1>
  <p>to continue to <strong>${escapeHtml(clientName)}</strong></p>
  ${error ? `<p class="error" role="alert" data-testid="login-error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
    <label for="username">Username</label>
    <input id="username" name="username" required autofocus value="${escapeHtml(username)}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" required>
    <button type="submit">Sign in</button>
  </form>
  <p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>
  <p class="hint">Dev users: ${testUsers.map((u) => `${escapeHtml(u.username)} / ${escapeHtml(u.password)}`).join(', ')}</p>
</body>
</html>`;

/** Grants everything the client asked for (first-party client) and finishes the consent prompt. */
const grantConsent = async (provider, req, res, interaction) => {
  const { prompt: { details }, params, session: { accountId } } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  const consent = interaction.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
};

const finishLogin = (provider, req, res, user) => provider.interactionFinished(
  req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false },
);

/** Creates the handler for /interaction/* requests. Returns a promise; errors propagate. */
export const createInteractions = ({ provider, autoLogin }) => {
  if (autoLogin && !findUserByUsername(autoLogin)) {
    throw new Error(`AUTO_LOGIN names an unknown user: ${autoLogin}`);
  }

  return async (req, res, url) => {
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
    if (!match) return sendHtml(res, 404, '<!DOCTYPE html><title>Not found</title><p>Not found</p>');
    const [, uid, action] = match;

    const interaction = await provider.interactionDetails(req, res);
    if (interaction.uid !== uid) {
      return sendHtml(res, 400, '<!DOCTYPE html><title>Bad request</title><p>Interaction mismatch.</p>');
    }
    const client = await provider.Client.find(interaction.params.client_id);
    const clientName = client?.clientName ?? interaction.params.client_id;
    const { prompt } = interaction;

    if (action === 'abort') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
    }

    if (action === 'login') {
      if (req.method !== 'POST' || prompt.name !== 'login') {
        return sendHtml(res, 405, '<!DOCTYPE html><title>Method not allowed</title><p>Method not allowed</p>');
      }
      const form = new URLSearchParams(await readBody(req));
      const user = authenticate(form.get('username'), form.get('password'));
      if (!user) {
        console.log('[idp] login failed');
        return sendHtml(res, 401, page({
          uid, clientName, username: form.get('username') ?? '', error: 'Wrong username or password.',
        }));
      }
      console.log(`[idp] login ok user=${user.username}`);
      return finishLogin(provider, req, res, user);
    }

    // GET /interaction/:uid
    if (prompt.name === 'login') {
      const ticket = autoLoginTickets.get(uid);
      autoLoginTickets.delete(uid);
      const auto = ticket ?? autoLogin;
      if (auto) {
        console.log(`[idp] auto login user=${auto}`);
        return finishLogin(provider, req, res, findUserByUsername(auto));
      }
      return sendHtml(res, 200, page({ uid, clientName }));
    }
    if (prompt.name === 'consent') {
      return grantConsent(provider, req, res, interaction);
    }
    return sendHtml(res, 400, `<!DOCTYPE html><title>Unsupported</title><p>Unsupported prompt ${escapeHtml(prompt.name)}</p>`);
  };
};
