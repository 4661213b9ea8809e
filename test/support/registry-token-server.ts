// Test helper: a registry token server (the Bearer realm of distribution's `auth: token`) on 127.0.0.1
// over TLS, issuing RS256 JWTs with an x5c certificate chain for users it knows by password.
import { randomUUID, sign, X509Certificate } from "node:crypto";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";

export type TokenRequest = { user: string | undefined; scopes: string[]; granted: boolean };

export type TokenServer = {
  /** `https://127.0.0.1:PORT/token`, the registry's `auth.token.realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** Every token request, in order (who asked, for which scopes, whether a token was issued). */
  requests: TokenRequest[];
  close(): Promise<void>;
};

const b64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

/** The access claim distribution checks: every requested repository action is granted to a known user. */
function accessFor(scopes: readonly string[]): { type: string; name: string; actions: string[] }[] {
  return scopes.flatMap((scope) => {
    const parts = scope.split(":");
    if (parts.length < 3) return [];
    const actions = (parts.pop() ?? "").split(",").filter(Boolean);
    const type = parts.shift() ?? "";
    return [{ type, name: parts.join(":"), actions }];
  });
}

export async function startTokenServer(options: {
  users: Record<string, string>;
  /** TLS certificate and key the server presents (the registry's, trusted via certs.d). */
  tls: { certPem: string; keyPem: string };
  /** Key and certificate the tokens are signed with; the registry's `rootcertbundle` holds the certificate. */
  signing: { certPem: string; keyPem: string };
  service: string;
  issuer: string;
}): Promise<TokenServer> {
  const requests: TokenRequest[] = [];
  const x5c = [new X509Certificate(options.signing.certPem).raw.toString("base64")];

  function issue(user: string, scopes: string[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c }));
    const claims = b64url(
      JSON.stringify({
        iss: options.issuer,
        sub: user,
        aud: options.service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access: accessFor(scopes),
      }),
    );
    const signature = sign("sha256", Buffer.from(`${header}.${claims}`), options.signing.keyPem);
    return `${header}.${claims}.${b64url(signature)}`;
  }

  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const scopes = url.searchParams
      .getAll("scope")
      .flatMap((s) => s.split(" "))
      .filter(Boolean);
    const authorization = req.headers.authorization ?? "";
    const [user, password] = authorization.startsWith("Basic ")
      ? Buffer.from(authorization.slice(6), "base64").toString("utf8").split(/:(.*)/s)
      : [];
    const known = user !== undefined && options.users[user] !== undefined && options.users[user] === password;
    const granted = url.pathname === "/token" && url.searchParams.get("service") === options.service && known;
    requests.push({ user, scopes, granted });
    if (!granted || user === undefined) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    const token = issue(user, scopes);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    realm: `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    service: options.service,
    issuer: options.issuer,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
