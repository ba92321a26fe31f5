import { AccountState } from "../../../emulator/freshservice/state";
import { ALLOWED_METHODS, apiHandlers, methodNotAllowed, routeOf } from "../../../emulator/freshservice/routes";

describe("Freshservice emulator: the route table", () => {
  const handlers = apiHandlers(new AccountState("keywire-test", () => 0), { maxAgents: 10, maxBodyBytes: 1024 });

  test("a 405's Allow names exactly the methods that have a handler", () => {
    const served = new Map<string, string[]>();
    for (const key of handlers.keys()) {
      const [method, pattern] = key.split(" ");
      served.set(pattern, [...(served.get(pattern) ?? []), method]);
    }
    for (const [pattern, methods] of Object.entries(ALLOWED_METHODS)) {
      expect([pattern, [...(served.get(pattern) ?? [])].sort()]).toEqual([pattern, [...methods].sort()]);
      expect(methodNotAllowed(pattern).headers).toEqual({ Allow: methods.join(", ") });
    }
    expect([...served.keys()].sort()).toEqual(Object.keys(ALLOWED_METHODS).sort());
  });

  test("paths map to routes with their ids; anything else is no route", () => {
    expect(routeOf("/agents")).toEqual({ pattern: "/agents" });
    expect(routeOf("/agents/12")).toEqual({ pattern: "/agents/{id}", id: 12 });
    expect(routeOf("/agents/12/reactivate")).toEqual({ pattern: "/agents/{id}/reactivate", id: 12 });
    expect(routeOf("/agents/12/forget")).toEqual({ pattern: "/agents/{id}/forget", id: 12 });
    expect(routeOf("/roles/3")).toEqual({ pattern: "/roles/{id}", id: 3 });
    expect(routeOf("/tickets")).toEqual({ pattern: "/tickets" });
    for (const path of ["/agents/me", "/agents/1234567890123456", "/agents/-1", "/tickets/1", "/", "/agents/12/forget/now"]) {
      expect([path, routeOf(path)]).toEqual([path, undefined]);
    }
  });
});
