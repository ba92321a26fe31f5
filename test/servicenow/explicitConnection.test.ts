/**
 * A record given its own connection: the provider works on that instance, not the
 * configured one; moving it to another instance replaces it, new credentials for
 * the same one do not; a malformed connection is refused before any call.
 */
import { inboundProfileProvider } from "../../resources/servicenow/records/inboundProfile";
import { ADMIN_PASSWORD, ProviderDriver } from "../support/serviceNow";
import { sendJson, startHttpStub } from "../support/httpStub";
import { useServiceNowEmulator } from "../support/useServiceNowEmulator";

const configured = useServiceNowEmulator({ adminPassword: ADMIN_PASSWORD }, { resetAfterEach: false });
const other = useServiceNowEmulator({ adminPassword: "other-pw-123" }, { resetAfterEach: false });

const conn = () => ({ instance: other.url, username: "admin", password: "other-pw-123" });

test("create, read, update and delete reach the record's own instance", async () => {
  const p = new ProviderDriver(inboundProfileProvider, configured.url);
  const { id, outs } = await p.create({ name: "elsewhere", keyLocation: "header", connection: conn() });
  expect(other.store.get("http_key_auth", id)?.name).toBe("elsewhere");
  expect(configured.store.get("http_key_auth", id)).toBeUndefined();
  expect(outs.connection).toEqual(conn());
  expect(String(outs.recordUrl)).toContain(other.url);

  other.store.update("http_key_auth", id, { description: "changed there" });
  const read = await p.read(id, outs);
  expect((read.props as Record<string, unknown>).columns).toMatchObject({ description: "changed there" });

  const updated = await p.update(id, outs, { name: "elsewhere", keyLocation: "header", description: "set", connection: conn() });
  expect(other.store.get("http_key_auth", id)?.description).toBe("set");
  await p.delete(id, updated);
  expect(other.store.get("http_key_auth", id)).toBeUndefined();
});

test("another instance replaces the record; new credentials for the same one update it in place", async () => {
  const p = new ProviderDriver(inboundProfileProvider, configured.url);
  const { id, outs } = await p.create({ name: "moving", keyLocation: "header", connection: conn() });
  const base = { name: "moving", keyLocation: "header" };
  expect((await p.diff(id, outs, { ...base, connection: conn() })).changes).toBe(false);
  expect((await p.diff(id, outs, { ...base, connection: { ...conn(), password: "rotated" } })).replaces).toEqual([]);
  expect((await p.diff(id, outs, { ...base, connection: { ...conn(), password: "rotated" } })).changes).toBe(true);
  expect((await p.diff(id, outs, { ...base, connection: { ...conn(), instance: configured.url } })).replaces).toEqual(["connection"]);
  expect((await p.diff(id, outs, base)).changes).toBe(true);
});

test("a malformed connection is refused in check, naming the property", async () => {
  const p = new ProviderDriver(inboundProfileProvider, configured.url);
  const res = await p.check({ name: "x", keyLocation: "header", connection: { instance: other.url, user: "admin" } });
  expect(res.failures?.map((f) => f.property)).toContain("connection");
});

test("an explicit connection whose instance hides a line break is refused before any request, naming connection.instance", async () => {
  const stub = await startHttpStub((_req, res) => sendJson(res, 200, { result: [] }));
  try {
    const p = new ProviderDriver(inboundProfileProvider, stub.url);
    // The stub's own address with a line break inside the host: parsed, it would name another host.
    const instance = `${stub.url}\n.evil.example`;
    await expect(p.create({ name: "x", keyLocation: "header", connection: { instance, username: "admin", password: "other-pw-123" } })).rejects.toThrow(
      /connection\.instance contains a line break/,
    );
    expect(stub.requests).toEqual([]);
  } finally {
    await stub.stop();
  }
});
