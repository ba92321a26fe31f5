/**
 * The bare engine's side of `npm run bench`'s drift check: the graph of a keywire stack,
 * read from the JSON file `bench:graph` names (written by bench/deploy/driftCheck.ts
 * from that stack's state), registered again with plain JavaScript dynamic providers
 * that make no request. Each resource keeps its type's name, its resource name, its
 * parent component, its dependencies, and its inputs' shape (values kept, secrets
 * replaced by a secret of the same length). Its provider waits out, per read, the
 * ServiceNow requests keywire's read of that resource made (`readTrips`, one after
 * another), at `bench:latencyMs` per request; 0 answers at once (the engine alone).
 * A create waits one request; check, diff and delete none.
 */
"use strict";
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");

const config = new pulumi.Config("bench");
const graph = JSON.parse(fs.readFileSync(config.require("graph"), "utf8"));
const latencyMs = config.requireNumber("latencyMs");

const sleep = (trips) => (trips * latencyMs > 0 ? new Promise((resolve) => setTimeout(resolve, trips * latencyMs)) : Promise.resolve());

/** One provider per type and read cost: Pulumi serializes each by value, its default. */
const providers = new Map();
function providerFor(typeName, readTrips) {
  const key = `${typeName} ${readTrips}`;
  if (!providers.has(key)) {
    providers.set(key, {
      typeName,
      async check(_olds, news) {
        return { inputs: news };
      },
      async diff() {
        return { changes: false };
      },
      async create(inputs) {
        await sleep(1);
        return { id: require("crypto").randomBytes(16).toString("hex"), outs: inputs };
      },
      async read(id, props) {
        await sleep(readTrips);
        return { id, props };
      },
      async delete() {},
    });
  }
  return providers.get(key);
}

/** A value as the program gives it: a secret in the state becomes a secret again. */
function revive(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    if (typeof value.secretLength === "number") return pulumi.secret("x".repeat(value.secretLength));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  if (Array.isArray(value)) return value.map(revive);
  return value;
}

const byUrn = new Map();
for (const node of graph.resources) {
  const opts = {};
  if (node.parent && byUrn.has(node.parent)) opts.parent = byUrn.get(node.parent);
  const deps = (node.dependencies || []).filter((u) => byUrn.has(u)).map((u) => byUrn.get(u));
  if (deps.length > 0) opts.dependsOn = deps;
  const resource =
    node.kind === "component"
      ? new pulumi.ComponentResource(node.type, node.name, {}, opts)
      : new pulumi.dynamic.Resource(providerFor(node.typeName, node.readTrips), node.name, revive(node.inputs || {}), opts, "bare", node.typeName);
  byUrn.set(node.urn, resource);
}

exports.resourceCount = graph.resources.length;
