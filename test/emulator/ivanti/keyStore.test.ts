import { KeyStore } from "../../../emulator/ivanti/keys";

describe("Ivanti emulator: the key store", () => {
  test("keys are handed out as copies: changing one changes nothing stored", () => {
    const store = new KeyStore("keywire-test.ivanticloud.com");
    const k = store.add({ ipList: ["10.0.0.1"] });
    k.ipList.push("10.0.0.2");
    k.activated = false;
    store.list()[0].ipList.push("10.0.0.3");
    expect(store.get(k.referenceId)).toMatchObject({ activated: true, ipList: ["10.0.0.1"] });
  });

  test("an edit with any bad value changes nothing", () => {
    const store = new KeyStore("keywire-test.ivanticloud.com");
    const k = store.add({ role: "SelfService" });
    expect(() => store.edit(k.referenceId, { activated: false, role: "Nobody" })).toThrow("unknown role Nobody");
    expect(() => store.edit(k.referenceId, { activated: false, tenant: "-bad-" })).toThrow("tenant must be a host name");
    expect(() => store.edit(k.referenceId, { activated: false, ipList: ["not-an-ip"] })).toThrow("not an IP address");
    expect(store.get(k.referenceId)).toMatchObject({ activated: true, role: "SelfService", tenant: "keywire-test.ivanticloud.com", ipList: [] });
  });

  test("a key is made in the store's tenant and its group unless told otherwise; clear forgets keys and groups", () => {
    const store = new KeyStore("keywire-test.ivanticloud.com");
    const k = store.add({});
    expect(k).toMatchObject({ tenant: "keywire-test.ivanticloud.com", group: "REST API", role: "Admin", onBehalfOf: "InternalServices" });
    expect(store.add({ tenant: "other.ivanticloud.com", group: "Other" })).toMatchObject({ tenant: "other.ivanticloud.com", group: "Other" });
    expect(store.groupList().map((g) => g.name)).toEqual(["REST API", "Other"]);
    store.clear();
    expect(store.list()).toEqual([]);
    expect(store.groupList()).toEqual([]);
    expect(store.get(k.referenceId)).toBeUndefined();
  });
});
