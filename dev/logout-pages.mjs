// RP-initiated logout pages.
// - A request with a valid id_token_hint (the POST binding, end_session_method "post") is confirmed at once: the
//   client proved which session it ends.
// - A request without one (a GET with client_id and post_logout_redirect_uri, the default) shows a real
//   confirmation page: the person clicks "Sign out" (tests click it too).

import { escapeHtml } from './http.mjs';

/** Replaces oidc-provider's confirm page. */
export const logoutSource = async (ctx, form) => {
  ctx.type = 'html';
  if (ctx.oidc?.params?.id_token_hint) {
    const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
    ctx.body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Signing out…</title></head>
<body>
  <p>Signing you out of ${escapeHtml(ctx.host)}…</p>
  ${autoForm}
  <noscript><button type="submit" form="op.logoutForm">Sign out</button></noscript>
  <script>document.getElementById('op.logoutForm').submit();</script>
</body>
</html>`;
    return;
  }
  const client = ctx.oidc?.client?.clientName ?? ctx.oidc?.client?.clientId ?? 'the app';
  ctx.body = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign out – Oten dev IdP</title>
  <style>
    body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
    button{margin-top:1rem;width:100%;padding:.6rem;font-size:1rem}
  </style>
</head>
<body>
  <h1>Sign out?</h1>
  <p>${escapeHtml(client)} asks to end your session at the Oten dev IdP.</p>
  ${form}
  <button type="submit" form="op.logoutForm" name="logout" value="yes" data-testid="idp-logout-confirm">Sign out</button>
</body>
</html>`;
};

/** Shown when logout had no post_logout_redirect_uri. */
export const postLogoutSuccessSource = async (ctx) => {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Signed out</title></head>
<body><h1>Signed out</h1><p>You have been signed out of the Oten dev IdP.</p></body>
</html>`;
};
