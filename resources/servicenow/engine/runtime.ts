/**
 * The provider runtime: what one provider holds between calls, built from the
 * stack configuration its `configure` received (as the Terraform provider builds
 * its client once in `configure` and hands it to every resource).
 *
 * It makes the client for each call and keeps the answers to lookups that every
 * resource of a run asks the same way (a user by user_name, the shipped
 * key-location rows, the parked keys): one request per provider process instead
 * of one per resource. New settings mean a new runtime, so nothing remembered for
 * one instance is used for another. Failures are not kept.
 */
import { ConfigSource, ConnectionArgs, ServiceNowConnection, explicitConnection, resolveConnection } from "../client/connection";
import { TableClient } from "../client/tableClient";

/** What a hook sees: the client for this call, the connection it came from, and the runtime. */
export interface EngineContext {
  client: TableClient;
  connection: ServiceNowConnection;
  runtime: Runtime;
}

export interface Runtime {
  /** A client for one provider call: on the resource's own connection when it has one, else the configured one. */
  context(explicit?: ConnectionArgs): EngineContext;
  /** The answer of `make`, asked once for `key` while this runtime lives. */
  lookupOnce<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** Drops a remembered answer that turned out unusable (a name not found yet may exist later). */
  forget(key: string): void;
}

/** Settings from `configure`, falling back per key to the environment; absent before configure runs. */
export function createRuntime(config: ConfigSource | undefined, env: NodeJS.ProcessEnv = process.env): Runtime {
  const remembered = new Map<string, Promise<unknown>>();
  let configured: ServiceNowConnection | undefined;
  // One connection per explicit setting, so its OAuth tokens are shared by the calls that use it.
  const explicit = new Map<string, ServiceNowConnection>();
  const runtime: Runtime = {
    context(args?: ConnectionArgs) {
      let connection: ServiceNowConnection;
      if (args && Object.values(args).some((v) => v !== undefined && v !== "")) {
        const key = JSON.stringify(args);
        connection = explicit.get(key) ?? explicitConnection(args);
        explicit.set(key, connection);
      } else {
        // Resolved on first use, not in configure: a program may configure providers it
        // never calls, and configuration errors belong to the call that needs them.
        connection = configured ??= resolveConnection(config ?? { get: () => undefined }, env);
      }
      return { connection, client: new TableClient(connection), runtime };
    },
    lookupOnce<T>(key: string, make: () => Promise<T>): Promise<T> {
      const known = remembered.get(key);
      if (known) return known as Promise<T>;
      const made = make();
      remembered.set(key, made);
      made.catch(() => {
        if (remembered.get(key) === made) remembered.delete(key);
      });
      return made;
    },
    forget(key: string) {
      remembered.delete(key);
    },
  };
  return runtime;
}

/**
 * The result of `make`, asked once per provider runtime for `key`. For reads whose answer does not change during a run.
 */
export function lookupOnce<T>(ctx: EngineContext, key: string, make: () => Promise<T>): Promise<T> {
  // Per instance: one runtime may serve resources on several.
  return ctx.runtime.lookupOnce(`${ctx.connection.instanceUrl} ${key}`, make);
}

/** Drops a remembered answer that turned out unusable (a name not found yet may exist later). */
export function forgetLookup(ctx: EngineContext, key: string): void {
  ctx.runtime.forget(`${ctx.connection.instanceUrl} ${key}`);
}
