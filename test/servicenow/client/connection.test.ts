import * as util from "node:util";
import { KeywireConfigError } from "../../../resources/core/errors";
import { ConfigSource, ServiceNowConnection, explicitConnection, resolveConnection } from "../../../resources/servicenow/client/connection";
import { describeFailure } from "../../../resources/servicenow/client/failureHints";

/** Like the dynamic provider's configure config: full `namespace:key` names. */
function cfg(values: Record<string, string>): ConfigSource {
  return { get: (k) => values[k] };
}

const basic = { "servicenow:username": "admin", "servicenow:password": "pw-123456" };

function configError(f: () => unknown): KeywireConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KeywireConfigError);
    return e as KeywireConfigError;
  }
  throw new Error("expected a configuration error");
}

describe("resolveConnection", () => {
  it("turns a short instance name into its service-now.com URL", () => {
    const c = resolveConnection(cfg({ "servicenow:instance": "dev12345", ...basic }), {});
    expect(c.instanceUrl).toBe("https://dev12345.service-now.com");
    expect(c.authKind).toBe("basic");
    expect(c.credentials()).toEqual({ kind: "basic", username: "admin", password: "pw-123456" });
  });

  it("accepts a host or a full URL", () => {
    expect(resolveConnection(cfg({ "servicenow:instance": "dev12345.service-now.com", ...basic }), {}).instanceUrl).toBe("https://dev12345.service-now.com");
    expect(resolveConnection(cfg({ "servicenow:instanceUrl": "https://acme.example.com/", ...basic }), {}).instanceUrl).toBe("https://acme.example.com");
  });

  it("reads a Pulumi Config('servicenow') bag by short keys", () => {
    const bag: ConfigSource = { name: "servicenow", get: (k) => ({ instance: "dev1", username: "u", password: "pppp" })[k] };
    expect(resolveConnection(bag, {}).instanceUrl).toBe("https://dev1.service-now.com");
  });

  it("falls back to the environment, and configuration wins over it", () => {
    const env = {
      SERVICENOW_INSTANCE_URL: "https://env.service-now.com",
      SERVICENOW_USERNAME: "envuser",
      SERVICENOW_PASSWORD: "envpass",
    };
    const fromEnv = resolveConnection(cfg({}), env);
    expect(fromEnv.instanceUrl).toBe("https://env.service-now.com");
    expect(fromEnv.username).toBe("envuser");
    const mixed = resolveConnection(cfg({ "servicenow:instance": "cfg", "servicenow:username": "cfguser" }), env);
    expect(mixed.instanceUrl).toBe("https://cfg.service-now.com");
    expect(mixed.credentials()).toEqual({ kind: "basic", username: "cfguser", password: "envpass" });
  });

  it("requires https except on loopback", () => {
    const e = configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": "http://dev1.service-now.com", ...basic }), {}));
    expect(e.message).toMatch(/servicenow:instanceUrl must use https/);
    for (const u of ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "http://127.9.8.7"]) {
      expect(resolveConnection(cfg({ "servicenow:instanceUrl": u, ...basic }), {}).instanceUrl).toBe(u);
    }
    configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": "http://127.0.0.1.evil.com", ...basic }), {}));
    configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": "ftp://dev1.service-now.com", ...basic }), {}));
  });

  it("refuses paths and credentials in the URL without echoing them", () => {
    configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": "https://dev1.service-now.com/now/nav/ui", ...basic }), {}));
    const e = configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": "https://bob:S3cretPw@dev1.service-now.com", ...basic }), {}));
    expect(JSON.stringify(e) + e.stack).not.toContain("S3cretPw");
  });

  describe("an instance address with characters that change what it names is refused before it is parsed", () => {
    // URL parsing drops a line break, a tab or a zero-width space inside a host, so
    // "dev1.service-now.com\n.evil.com" would become the host dev1.service-now.com.evil.com.
    const smuggled: Array<[string, string]> = [
      ["a line break", "https://dev1.service-now.com\n.evil.com"],
      ["a carriage return", "https://dev1.service-now.com\r.evil.com"],
      ["a tab", "https://dev1.service-now.com\t.evil.com"],
      ["a space", "https://dev1.service-now.com .evil.com"],
      ["a NUL", "dev1\u0000.evil.com"],
      ["a zero-width space", "https://dev1.service-now.com\u200b.evil.com"],
      ["a right-to-left override", "dev1\u202e"],
      ["a byte-order mark", "\ufeffdev1"],
      ["a no-break space", "https://dev1.service-now.com\u00a0"],
      ["a trailing line break", "dev12345\n"],
    ];
    test.each(smuggled)("%s in servicenow:instanceUrl", (_label, value) => {
      const e = configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": value, ...basic }), {}));
      expect(e.key).toBe("servicenow:instanceUrl");
      expect(e.message).toMatch(/servicenow:instanceUrl contains .*(space|line break|control|invisible)/);
      expect(e.message).not.toContain("evil");
    });
    test.each(smuggled)("%s in servicenow:instance", (_label, value) => {
      const e = configError(() => resolveConnection(cfg({ "servicenow:instance": value, ...basic }), {}));
      expect(e.key).toBe("servicenow:instance");
      expect(e.message).not.toContain("evil");
    });
    test.each(smuggled)("%s in SERVICENOW_INSTANCE_URL", (_label, value) => {
      const e = configError(() => resolveConnection(cfg(basic), { SERVICENOW_INSTANCE_URL: value }));
      expect(e.message).toMatch(/SERVICENOW_INSTANCE_URL contains/);
    });
    test.each(smuggled)("%s in an explicit connection's instance", (_label, value) => {
      const e = configError(() => explicitConnection({ instance: value, username: "u", password: "pw-123456" }));
      expect(e.message).toMatch(/connection\.instance contains/);
      expect(e.key).toBe("connection.instance");
    });
  });

  describe("an instance address longer than DNS allows is refused", () => {
    test.each<[string, string, RegExp]>([
      ["a 70,000-character host", `https://${"a".repeat(70_000)}.service-now.com`, /at most 2048 characters/],
      ["a 254-character host", `https://${Array.from({ length: 4 }, () => "a".repeat(62)).join(".")}.co`, /host .*at most 253 characters/],
      ["a 64-character label", `https://${"a".repeat(64)}.service-now.com`, /label .*at most 63 characters/],
      ["a 64-character instance name", "a".repeat(64), /label .*at most 63 characters/],
      ["an empty label", "https://dev1..service-now.com", /empty label/],
    ])("%s", (_label, value, message) => {
      const e = configError(() => resolveConnection(cfg({ "servicenow:instanceUrl": value, ...basic }), {}));
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain("aaaaaaaaaa");
    });

    test("a host of 253 characters and labels of 63 are accepted", () => {
      const host = `${Array.from({ length: 3 }, () => "a".repeat(63)).join(".")}.${"b".repeat(61)}`;
      expect(host).toHaveLength(253);
      expect(resolveConnection(cfg({ "servicenow:instanceUrl": `https://${host}`, ...basic }), {}).instanceUrl).toBe(`https://${host}`);
    });
  });

  it("names the keys and the command when something is missing", () => {
    const noInstance = configError(() => resolveConnection(cfg(basic), {}));
    expect(noInstance.message).toContain("pulumi config set servicenow:instance dev12345");
    expect(noInstance.key).toBe("servicenow:instance");

    const noCreds = configError(() => resolveConnection(cfg({ "servicenow:instance": "dev1" }), {}));
    expect(noCreds.message).toMatch(/servicenow:username.*servicenow:password.*servicenow:clientId.*servicenow:clientSecret/);
    expect(noCreds.message).toContain("pulumi config set --secret servicenow:password");

    const noPassword = configError(() => resolveConnection(cfg({ "servicenow:instance": "dev1", "servicenow:username": "u" }), {}));
    expect(noPassword.key).toBe("servicenow:password");
    expect(noPassword.message).toContain("pulumi config set --secret servicenow:password");

    const noSecret = configError(() => resolveConnection(cfg({ "servicenow:instance": "dev1", "servicenow:clientId": "id" }), {}));
    expect(noSecret.message).toContain("pulumi config set --secret servicenow:clientSecret");
  });

  it("prefers OAuth when both credential pairs are complete", () => {
    const c = resolveConnection(cfg({ "servicenow:instance": "dev1", ...basic, "servicenow:clientId": "cid", "servicenow:clientSecret": "csecret-1" }), {});
    expect(c.authKind).toBe("oauth");
    expect(c.credentials()).toEqual({ kind: "oauth", clientId: "cid", clientSecret: "csecret-1" });
  });

  it("ignores a half pair when another pair is complete", () => {
    const c = resolveConnection(cfg({ "servicenow:instance": "dev1", ...basic }), { SERVICENOW_CLIENT_ID: "stray" });
    expect(c.authKind).toBe("basic");
  });

  it("refuses two different instances", () => {
    const e = configError(() => resolveConnection(cfg({ "servicenow:instance": "a", "servicenow:instanceUrl": "https://b.service-now.com", ...basic }), {}));
    expect(e.message).toMatch(/name different instances/);
  });

  it("never shows its secret", () => {
    const c = new ServiceNowConnection({ instance: "dev1", credentials: { kind: "basic", username: "admin", password: "hidden-pw-42" } });
    const shown = [JSON.stringify(c), util.inspect(c, { depth: 10, showHidden: true }), String(c), `${c}`].join("\n");
    expect(shown).not.toContain("hidden-pw-42");
    expect(shown).toContain("dev1.service-now.com");
    expect(c.secrets()).toContain("hidden-pw-42");
    expect(c.secrets()).toContain(Buffer.from("admin:hidden-pw-42").toString("base64"));
  });
});

describe("messages name the setting the instance came from", () => {
  test("a host that does not resolve: the hint names servicenow:instanceUrl when that is what was set", () => {
    const conn = resolveConnection(
      { get: (k) => ({ "servicenow:instanceUrl": "https://nowhere.example.invalid", "servicenow:username": "u", "servicenow:password": "p" })[k] },
      {},
    );
    expect(conn.instanceSetting).toBe("servicenow:instanceUrl");
    const d = describeFailure({
      kind: "network",
      networkCode: "ENOTFOUND",
      operation: "list x",
      path: "/api/now/table/x",
      tablePath: true,
      instanceUrl: conn.instanceUrl,
      instanceSetting: conn.instanceSetting,
      auth: { kind: "none" },
      timeoutMs: 1000,
    });
    expect(d.hint).toMatch(/^Check servicenow:instanceUrl /);
  });
  test("from the environment, the variable is named; from servicenow:instance, that key", () => {
    const env = resolveConnection(
      { get: () => undefined },
      { SERVICENOW_INSTANCE_URL: "https://x.example.com", SERVICENOW_USERNAME: "u", SERVICENOW_PASSWORD: "p" },
    );
    expect(env.instanceSetting).toBe("SERVICENOW_INSTANCE_URL");
    const short = resolveConnection({ get: (k) => ({ "servicenow:instance": "dev1", "servicenow:username": "u", "servicenow:password": "p" })[k] }, {});
    expect(short.instanceSetting).toBe("servicenow:instance");
  });
});
