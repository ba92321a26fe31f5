/**
 * Every provider a resource stores by reference can be loaded by that reference:
 * the public module it names exports it under that name (a provider left out of its
 * platform's index would deploy, and then fail every refresh and destroy).
 */
import * as fs from "fs";
import * as path from "path";
import type { ReferencedProvider } from "../../resources/core/providerLoading/providerReference";
import { rateLimitRuleProvider } from "../../resources/servicenow/records/rateLimitRule";
import { revive, storedText } from "../support/providerText";

const RESOURCES = path.resolve(__dirname, "..", "..", "resources");

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

function isReferenced(v: unknown): v is ReferencedProvider {
  return typeof v === "object" && v !== null && "reference" in v && typeof (v as { create?: unknown }).create === "function";
}

/** Every referenced provider any module of the library exports, and the default one of the provider made per column. */
function definedProviders(): Map<string, ReferencedProvider> {
  const found = new Map<string, ReferencedProvider>();
  for (const file of tsFiles(RESOURCES)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(file) as Record<string, unknown>;
    for (const value of Object.values(exported)) if (isReferenced(value)) found.set(JSON.stringify(value.reference), value);
  }
  const perColumn = rateLimitRuleProvider();
  found.set(JSON.stringify(perColumn.reference), perColumn);
  return found;
}

test("each provider's reference loads that provider, through its platform's public module", () => {
  const providers = [...definedProviders().values()];
  // ServiceNow's thirteen, Freshservice's two, Ivanti's one.
  expect(providers.map((p) => p.typeName).sort()).toEqual(
    [
      "AccessPolicy",
      "AccessPolicyProfileLink",
      "ApiKey",
      "ApiKeyVerification",
      "BasicAuthProfile",
      "FreshserviceAgent",
      "FreshserviceApiKey",
      "InboundProfile",
      "IvantiApiKey",
      "KeyLeftovers",
      "PolicyHandover",
      "Preflight",
      "PushConnector",
      "RateLimitRule",
      "ServiceNowUser",
      "UserRoleGrant",
    ].sort(),
  );
  for (const provider of providers) {
    const loaded = revive(storedText(provider));
    expect(loaded.reference).toEqual(provider.reference);
    expect(loaded.typeName).toBe(provider.typeName);
  }
});
