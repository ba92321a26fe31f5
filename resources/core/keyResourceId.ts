/**
 * Ids of the resources that stand for a key keywire is given but cannot look up
 * (FreshserviceApiKey, IvantiApiKey). The engine stores ids in clear and shows them in
 * previews and `pulumi stack`, so an id holds nothing derived from the key: even a
 * prefix of its hash lets whoever reads the state test guesses of the key offline.
 */
import { randomBytes } from "crypto";

/** `<scope>/<16 random hex digits>`: the shape ids had when they ended in a fingerprint. */
export function keyResourceId(scope: string): string {
  return `${scope}/${randomBytes(8).toString("hex")}`;
}

/**
 * The id a refresh returns. Earlier versions made ids `<scope>/<fingerprint>`; such an
 * id gets a random suffix (the engine keeps the id a refresh returns), any other stays.
 */
export function refreshedKeyResourceId(id: string, fingerprint: string): string {
  const slash = id.lastIndexOf("/");
  return slash >= 0 && id.slice(slash + 1) === fingerprint ? keyResourceId(id.slice(0, slash)) : id;
}
