/** `/oauth_token.do`: password, client-credentials and refresh-token grants; bearer tokens. */
import type { IncomingMessage } from "node:http";
import { newOpaqueToken } from "../glide";
import type { Reply } from "../http/reply";
import type { Store } from "../store";
import type { GlideRecord } from "../types";
import { verifyPassword } from "../writeRules";
import { userUsable, type Directory } from "./directory";

interface IssuedToken {
  userId: string;
  clientId: string;
  expiresAt: number;
}

const MAX_TOKENS = 50_000;

function oauthError(status: number, error: string, description: string): Reply {
  return { status, body: { error_description: description, error } };
}

// The platform answers every credential failure the same way.
const ACCESS_DENIED = oauthError(401, "server_error", "access_denied");

export class OAuthTokens {
  private access = new Map<string, IssuedToken>();
  private refresh = new Map<string, IssuedToken>();

  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
  ) {}

  clear(): void {
    this.access.clear();
    this.refresh.clear();
  }

  private prune(map: Map<string, IssuedToken>): void {
    if (map.size < MAX_TOKENS) return;
    const now = Date.now();
    for (const [k, t] of map) if (t.expiresAt <= now) map.delete(k);
    // Still full of live tokens: drop the oldest.
    while (map.size >= MAX_TOKENS) map.delete(map.keys().next().value as string);
  }

  /** The active user a bearer token stands for, if the token is known and unexpired. */
  userForBearer(token: string): GlideRecord | undefined {
    const t = this.access.get(token);
    if (!t) return undefined;
    if (t.expiresAt <= Date.now()) {
      this.access.delete(token);
      return undefined;
    }
    const entity = this.entity(t.clientId);
    const user = this.directory.user(t.userId);
    return entity && userUsable(user) ? user : undefined;
  }

  private entity(clientId: string): GlideRecord | undefined {
    for (const e of this.store.scan("oauth_entity")) if (e.client_id === clientId && e.active === "true") return e;
    return undefined;
  }

  private issue(entity: GlideRecord, user: GlideRecord, withRefresh: boolean): Reply {
    const lifespan = Number(entity.access_token_lifespan) > 0 ? Number(entity.access_token_lifespan) : 1800;
    const accessToken = newOpaqueToken();
    this.prune(this.access);
    this.access.set(accessToken, { userId: user.sys_id, clientId: entity.client_id, expiresAt: Date.now() + lifespan * 1000 });
    const body: Record<string, unknown> = { access_token: accessToken, scope: "useraccount", token_type: "Bearer", expires_in: lifespan };
    if (withRefresh) {
      const refreshLife = Number(entity.refresh_token_lifespan) > 0 ? Number(entity.refresh_token_lifespan) : 8_640_000;
      const refreshToken = newOpaqueToken();
      this.prune(this.refresh);
      this.refresh.set(refreshToken, { userId: user.sys_id, clientId: entity.client_id, expiresAt: Date.now() + refreshLife * 1000 });
      body.refresh_token = refreshToken;
    }
    return { status: 200, body, headers: { "Cache-Control": "no-store" } };
  }

  /** Handles a form-encoded token request. */
  tokenRequest(req: IncomingMessage, rawBody: string): Reply {
    const form = new URLSearchParams(rawBody);
    let clientId = form.get("client_id") ?? "";
    let clientSecret = form.get("client_secret") ?? "";
    const auth = req.headers.authorization;
    if (!clientId && auth?.startsWith("Basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i > 0) {
        clientId = decodeURIComponent(decoded.slice(0, i));
        clientSecret = decodeURIComponent(decoded.slice(i + 1));
      }
    }
    const grant = form.get("grant_type") ?? "";
    if (!["password", "client_credentials", "refresh_token"].includes(grant)) {
      return oauthError(400, "unsupported_grant_type", `grant_type ${grant ? `"${grant}" ` : ""}is not supported`);
    }
    const entity = this.entity(clientId);
    if (!entity || entity.client_secret !== clientSecret) return ACCESS_DENIED;

    if (grant === "password") {
      const user = this.directory.userByName(form.get("username") ?? "");
      const pw = form.get("password") ?? "";
      if (!userUsable(user) || !user.user_password || !verifyPassword(user.user_password, pw)) return ACCESS_DENIED;
      return this.issue(entity, user, true);
    }
    if (grant === "client_credentials") {
      const user = entity.oauth_client_credentials_user ? this.directory.user(entity.oauth_client_credentials_user) : undefined;
      if (!userUsable(user)) return ACCESS_DENIED;
      return this.issue(entity, user, false);
    }
    const token = form.get("refresh_token") ?? "";
    const t = this.refresh.get(token);
    if (!t || t.clientId !== entity.client_id || t.expiresAt <= Date.now()) return oauthError(401, "invalid_grant", "access_denied");
    const user = this.directory.user(t.userId);
    if (!userUsable(user)) return ACCESS_DENIED;
    return this.issue(entity, user, false);
  }
}
