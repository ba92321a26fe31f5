import { parseEncodedQuery, splitEncoded } from "../../../emulator/servicenow/query";
import { client } from "./helpers";
import { useServiceNowEmulator } from "../../support/useServiceNowEmulator";

describe("3. encoded queries", () => {
  describe("parser", () => {
    test("^^ is a literal caret, ^ separates", () => {
      expect(splitEncoded("a=1^^2^b=3")).toEqual(["a=1^2", "b=3"]);
      expect(splitEncoded("a=x^^^b=y")).toEqual(["a=x^", "b=y"]);
    });

    test("^OR binds to the previous term; ^NQ starts a new OR'd group; ORDERBY/ORDERBYDESC", () => {
      const q = parseEncodedQuery("a=1^b=2^ORc=3^NQd=4^ORDERBYa^ORDERBYDESCb");
      expect(q.groups).toEqual([
        [
          [{ field: "a", op: "=", value: "1" }],
          [
            { field: "b", op: "=", value: "2" },
            { field: "c", op: "=", value: "3" },
          ],
        ],
        [[{ field: "d", op: "=", value: "4" }]],
      ]);
      expect(q.orderBy).toEqual([
        { field: "a", desc: false },
        { field: "b", desc: true },
      ]);
    });

    test("operators are recognised longest first; malformed terms are dropped", () => {
      const ops = parseEncodedQuery(
        "aNOT LIKEx^bNOT INx,y^c!=1^d<=2^e>=3^fISNOTEMPTY^gISEMPTY^hSTARTSWITHp^iENDSWITHs^jINx^kLIKEz^l<1^m>1^NOPE^=x^n",
      ).groups[0].map((c) => c[0].op);
      expect(ops).toEqual(["NOT LIKE", "NOT IN", "!=", "<=", ">=", "ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH", "IN", "LIKE", "<", ">"]);
    });
  });

  describe("over HTTP", () => {
    const em = useServiceNowEmulator({}, { resetAfterEach: false });
    let api: ReturnType<typeof client>;
    const names = async (q: string): Promise<string[]> => {
      const res = await api.get(`/api/now/table/cmdb_ci?sysparm_fields=name&sysparm_query=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      return res.body.result.map((r: { name: string }) => r.name);
    };

    beforeAll(() => {
      api = client(em.url);
      em.store.delete("cmdb_ci", em.store.query("cmdb_ci")[0].sys_id);
      const rows: Array<[string, string, number]> = [
        ["alpha", "10.0.0.1", 1],
        ["beta", "10.0.0.2", 2],
        ["gamma", "", 3],
        ["delta^x", "192.168.1.1", 10],
        ["Alpha2", "10.0.0.5", 2],
      ];
      for (const [name, ip_address, operational_status] of rows) em.store.insert("cmdb_ci", { name, ip_address, operational_status });
    });

    test.each([
      ["name=alpha", ["alpha"]],
      ["name!=alpha", ["beta", "gamma", "delta^x", "Alpha2"]],
      ["nameLIKEa", ["alpha", "beta", "gamma", "delta^x", "Alpha2"]],
      ["nameLIKElph", ["alpha", "Alpha2"]],
      ["nameNOT LIKEta", ["alpha", "gamma", "Alpha2"]],
      ["nameSTARTSWITHal", ["alpha"]],
      ["nameENDSWITHma", ["gamma"]],
      ["nameINalpha,gamma", ["alpha", "gamma"]],
      ["nameNOT INalpha,gamma", ["beta", "delta^x", "Alpha2"]],
      ["ip_addressISEMPTY", ["gamma"]],
      ["ip_addressISNOTEMPTY", ["alpha", "beta", "delta^x", "Alpha2"]],
      ["operational_status<3", ["alpha", "beta", "Alpha2"]],
      ["operational_status>2", ["gamma", "delta^x"]],
    ])("%s", async (q, expected) => {
      expect(await names(q)).toEqual(expected);
    });

    test("comparisons on integer columns are numeric (10 > 3)", async () => {
      expect(await names("operational_status>3")).toEqual(["delta^x"]);
    });

    test("values are case-sensitive", async () => {
      expect(await names("name=Alpha")).toEqual([]);
      expect(await names("nameSTARTSWITHAl")).toEqual(["Alpha2"]);
    });

    test("^ is AND, ^OR is OR, ^NQ is a new OR'd group", async () => {
      expect(await names("nameLIKEa^operational_status=2")).toEqual(["beta", "Alpha2"]);
      expect(await names("name=alpha^ORname=gamma")).toEqual(["alpha", "gamma"]);
      expect(await names("operational_status=2^name=beta^ORname=Alpha2")).toEqual(["beta", "Alpha2"]);
      expect(await names("name=alpha^NQoperational_status>3")).toEqual(["alpha", "delta^x"]);
    });

    test("ORDERBY and ORDERBYDESC sort, several keys in order", async () => {
      expect(await names("ORDERBYname")).toEqual(["Alpha2", "alpha", "beta", "delta^x", "gamma"]);
      expect(await names("ORDERBYDESCoperational_status")).toEqual(["delta^x", "gamma", "beta", "Alpha2", "alpha"]);
      expect(await names("ORDERBYoperational_status^ORDERBYDESCname")).toEqual(["alpha", "beta", "Alpha2", "gamma", "delta^x"]);
    });

    test("^^ matches a literal caret in a value, and keeps a value from being read as operators", async () => {
      expect(await names("name=delta^^x")).toEqual(["delta^x"]);
      // Pasted unescaped, the same value would be an injection: `^ORname=alpha` becomes its own term.
      expect(await names("name=nothing^ORname=alpha")).toEqual(["alpha"]);
      expect(await names("name=nothing^^ORname=alpha")).toEqual([]);
    });

    test("invalid terms are ignored silently", async () => {
      expect(await names("u_no_such_field=1")).toHaveLength(5);
      expect(await names("name=beta^u_no_such_field=1")).toEqual(["beta"]);
      expect(await names("name=beta^garbage!!")).toEqual(["beta"]);
      expect(await names("ORDERBYu_nope^name=beta")).toEqual(["beta"]);
    });

    test("dot-walked fields in a query", async () => {
      const res = await api.get(
        `/api/now/table/incident?sysparm_fields=number&sysparm_query=${encodeURIComponent("caller_id.user_name=abel.tuter^ORDERBYnumber")}`,
      );
      expect(res.body.result.length).toBeGreaterThanOrEqual(3);
      const none = await api.get(`/api/now/table/incident?sysparm_query=${encodeURIComponent("caller_id.user_name=nobody")}`);
      expect(none.body.result).toEqual([]);
    });
  });
});
