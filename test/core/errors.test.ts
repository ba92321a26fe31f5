import * as util from "node:util";
import { KeywireConfigError, KeywireError, KeywireHttpError, formatErrorMessage, isKeywireError } from "../../resources/core/errors";

describe("KeywireError", () => {
  it("formats 'what failed: why. What to do.'", () => {
    const e = new KeywireError({
      platform: "servicenow",
      operation: "create api_key",
      table: "api_key",
      status: 403,
      reason: "insufficient rights.",
      hint: "Give the user admin.",
    });
    expect(e.message).toBe("[servicenow] create api_key failed (HTTP 403): insufficient rights. Give the user admin.");
    expect(e).toBeInstanceOf(Error);
    expect(e.retryable).toBe(false);
  });

  it("names the table when the operation does not", () => {
    expect(formatErrorMessage({ platform: "p", operation: "probe", table: "t", reason: "r", hint: "h" })).toBe("[p] probe on table t failed: r. h.");
  });

  it("toJSON returns only the safe fields", () => {
    const e = new KeywireError({ platform: "aws", operation: "op", reason: "r", hint: "h", retryable: true, cause: "earlier failure" });
    expect(e.toJSON()).toEqual({
      name: "KeywireError",
      message: "[aws] op failed: r. h.",
      platform: "aws",
      operation: "op",
      hint: "h",
      retryable: true,
      cause: "earlier failure",
    });
  });

  it("keeps a sanitized KeywireError as cause and serializes it", () => {
    const inner = new KeywireError({ platform: "p", operation: "inner", reason: "r", hint: "h" });
    const outer = new KeywireError({ platform: "p", operation: "outer", reason: "r2", hint: "h2", cause: inner });
    expect(outer.cause).toBe(inner);
    expect(JSON.parse(JSON.stringify(outer)).cause.operation).toBe("inner");
    expect(util.inspect(outer)).toContain("inner failed");
  });

  it("subclasses carry their extra safe fields", () => {
    const c = new KeywireConfigError({ platform: "servicenow", operation: "resolve connection", key: "servicenow:instance", reason: "r", hint: "h" });
    expect(c.toJSON().key).toBe("servicenow:instance");
    const h = new KeywireHttpError({ platform: "p", operation: "o", reason: "r", hint: "h", kind: "network", networkCode: "ECONNRESET" });
    expect(h.toJSON()).toMatchObject({ kind: "network", networkCode: "ECONNRESET" });
    expect(Object.keys(h.toJSON())).not.toContain("path");
    expect(isKeywireError(h)).toBe(true);
    expect(isKeywireError(new Error("x"))).toBe(false);
  });
});
