// A real OpenID provider (panva's oidc-provider) on loopback, for cacnet's OpenID Connect tests.
//
//   OIDC_PROVIDER_CONFIG='{"clients": [...], "accounts": {...}, "jwks": {...}}' \
//     node tests/oidc/provider.mjs [port]
//
// The configuration (JSON, in the environment so secrets stay off the command line):
//   clients:  [{client_id, client_secret, redirect_uris}]  confidential clients (client_secret_basic)
//   accounts: {login: {sub, email, email_verified, name}}  who can sign in, by the login typed
//   jwks:     {keys: [private JWK, ...]}                    the signing keys (tests mint tokens too)
// Port 0 (the default) takes a free port. When it listens, one line goes to stdout:
//   oidc-provider ready {"issuer": "http://127.0.0.1:PORT"}
//
// The interactions are plain HTML: a form with a labelled "Login" field and a "Sign in" button;
// consent is granted at once. No JavaScript, so Playwright and a plain HTTP client can drive it.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_PROVIDER_CONFIG || '{}');
const port = Number(process.argv[2] || process.env.OIDC_PORT || 0);
const accounts = config.accounts || {};
const accountsBySub = new Map(Object.values(accounts).map((a) => [a.sub, a]));

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, clientId, error) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Loopback provider: sign in</title></head>
<body>
<main>
<h1>Loopback provider</h1>
<p>Sign in to continue to ${escapeHtml(clientId)}.</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label for="login">Login</label>
  <input id="login" name="login" autocomplete="username" required autofocus>
  <button type="submit">Sign in</button>
</form>
</main>
</body>
</html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: (config.clients || []).map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: config.jwks,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    features: { devInteractions: { enabled: false } },
    // Confidential clients too must prove the code with PKCE (S256): cacnet always sends it.
    pkce: { required: () => true },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
    },
    async findAccount(ctx, sub) {
      const account = accountsBySub.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: account.email_verified,
            name: account.name,
          };
        },
      };
    },
  });
  const handleOidc = provider.callback();

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      send(res, 400, '<p>This sign-in has expired.</p>');
      return;
    }
    const { prompt, params } = details;
    if (prompt.name === 'login') {
      if (action === 'login' && req.method === 'POST') {
        const form = await readForm(req);
        const account = accounts[form.get('login') || ''];
        if (!account) {
          send(res, 200, loginPage(uid, params.client_id, 'Unknown login.'));
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: account.sub } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      send(res, 200, loginPage(uid, params.client_id));
      return;
    }
    if (prompt.name === 'consent') {
      // Consent is implied: grant every scope and claim the client asked for.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    send(res, 400, `<p>Unexpected prompt ${escapeHtml(prompt.name)}.</p>`);
  }

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login))?$/);
    if (!match) {
      handleOidc(req, res);
      return;
    }
    try {
      await interaction(req, res, match[1], match[2]);
    } catch (error) {
      send(res, 400, `<p>${escapeHtml(error.message || error)}</p>`);
    }
  });

  process.stdout.write(`oidc-provider ready ${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
// The test process holds our stdin: when it goes away, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
