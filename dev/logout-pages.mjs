// RP-initiated logout pages. The confirmation is submitted automatically ("yes, sign me out"), so a
// GET to the end-session endpoint with id_token_hint and post_logout_redirect_uri lands back on the app.

import { escapeHtml } from './http.mjs';

/** Replaces oidc-provider's confirm page with one that auto-submits `logout=yes`. */
export const logoutSource = async (ctx, form) => {
  const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.type = 'html';
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
