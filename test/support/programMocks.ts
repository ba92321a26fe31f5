/**
 * Runs the Pulumi program (index.ts) under Pulumi's mocks and records every
 * resource it registers. Dynamic providers do not run under mocks, so the mock
 * plays their outputs (a sys_id, and the ApiKey's token).
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Pulumi's marker for a secret value inside mocked resource inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecretWrapped(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";
}

export function unwrap(v: unknown): unknown {
  return isSecretWrapped(v) ? (v as Record<string, unknown>).value : v;
}

export async function mockRuntime(token: string, registered: Registered[]): Promise<void> {
  let n = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        n += 1;
        const id = n.toString(16).padStart(32, "0");
        const state: Record<string, unknown> = { ...args.inputs, sysId: id };
        if (args.type.endsWith(":ApiKey")) {
          state.token = token;
          state.tokenSource = "input_display_value";
        }
        if (args.type.startsWith("aws:sns/")) state.arn = `arn:aws:sns:eu-west-1:123456789012:${args.name}`;
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        return args.inputs;
      },
    },
    "keywire",
    "test",
    false,
  );
}

/** Output value and secretness, read through the SDK's internals the way tests must. */
export async function settle<T>(o: pulumi.Output<T> | undefined): Promise<{ value: T | undefined; secret: boolean }> {
  if (!o) return { value: undefined, secret: false };
  const secret = await pulumi.isSecret(o);
  const value = await new Promise<T>((resolve) => o.apply((v) => resolve(v)));
  return { value, secret };
}
