import { EncodedQuery, q, where } from "../../../resources/servicenow/client/encodedQuery";

describe("encoded query builder", () => {
  it("builds every operator", () => {
    const s = q()
      .eq("name", "a")
      .ne("state", "7")
      .like("short_description", "disk")
      .notLike("short_description", "test")
      .startsWith("number", "INC")
      .endsWith("email", "@example.com")
      .in("priority", ["1", "2"])
      .notIn("category", ["x", "y"])
      .isEmpty("assigned_to")
      .isNotEmpty("caller_id")
      .lt("sys_created_on", "2025-01-01 00:00:00")
      .gt("sys_updated_on", "2024-01-01 00:00:00")
      .orderBy("number")
      .orderByDesc("sys_created_on")
      .build()
      .toString();
    expect(s).toBe(
      "name=a^state!=7^short_descriptionLIKEdisk^short_descriptionNOT LIKEtest^numberSTARTSWITHINC" +
        "^emailENDSWITH@example.com^priorityIN1,2^categoryNOT INx,y^assigned_toISEMPTY^caller_idISNOTEMPTY" +
        "^sys_created_on<2025-01-01 00:00:00^sys_updated_on>2024-01-01 00:00:00^ORDERBYnumber^ORDERBYDESCsys_created_on",
    );
  });

  it("joins with ^OR and ^NQ, and() is the default", () => {
    expect(q().eq("a", "1").or().eq("b", "2").and().eq("c", "3").nq().eq("d", "4").build().toString()).toBe("a=1^ORb=2^c=3^NQd=4");
  });

  it("escapes ^ so injected clauses stay literal", () => {
    const name = "x^ORactive=true";
    const s = where({ name, active: "true" }).toString();
    expect(s).toBe("name=x^^ORactive=true^active=true");
    // Splitting on single carets (not doubled) shows only the two intended terms.
    const terms = s.replace(/\^\^/g, "\u0000").split("^");
    expect(terms).toEqual(["name=x\u0000ORactive=true", "active=true"]);
    expect(s).not.toMatch(/(^|[^^])\^OR/);
  });

  it("escapes ^ inside IN lists and refuses commas", () => {
    expect(q().in("name", ["a^b", "c"]).build().toString()).toBe("nameINa^^b,c");
    expect(() => q().in("name", ["a,b"])).toThrow(/comma/);
    expect(() => q().notIn("name", [])).toThrow(/non-empty/);
  });

  it("refuses bad field names", () => {
    for (const f of ["Name", "name=x", "a^b", "", "1abc", "a..b", "a.", "name ", "nameORDERBY^x"]) {
      expect(() => q().eq(f, "v")).toThrow(/field name/);
    }
    expect(() => q().orderBy("a^b")).toThrow(/field name/);
    expect(q().eq("user.user_name", "bob").build().toString()).toBe("user.user_name=bob");
  });

  it("refuses empty values, line breaks and misplaced joiners", () => {
    expect(() => q().eq("name", "")).toThrow(/isEmpty/);
    expect(() => q().eq("name", "a\nb")).toThrow(/line break/);
    expect(() => q().or()).toThrow();
    expect(() => q().eq("a", "1").or().build()).toThrow(/followed/);
    expect(() => q().eq("a", "1").or().nq()).toThrow(/two joiners/);
  });

  it("refuses values the instance would run as a script, in every operator and list", () => {
    // ServiceNow evaluates a value starting with javascript: on the server.
    for (const v of ["javascript:gs.getUserID()", "  JavaScript:1", "JAVASCRIPT:x", "\tjavascript:x"]) {
      expect(() => q().eq("name", v)).toThrow(/javascript:/);
      expect(() => q().like("name", v)).toThrow(/javascript:/);
      expect(() => q().in("name", ["a", v])).toThrow(/javascript:/);
      expect(() => where({ name: v })).toThrow(/javascript:/);
    }
    // Only as a prefix: the word elsewhere in a value is literal text.
    expect(q().eq("name", "not javascript:x").build().toString()).toBe("name=not javascript:x");
    expect(q().eq("name", "javascript").build().toString()).toBe("name=javascript");
  });

  it("cannot be made from raw text", () => {
    const fake = { toString: () => "active=true^ORname=x", hasOrder: false } as unknown as EncodedQuery;
    expect(fake instanceof EncodedQuery).toBe(false);
    expect(() =>
      (EncodedQuery as unknown as { fromBuilder: (t: string, o: boolean, k: symbol) => EncodedQuery }).fromBuilder("x", false, Symbol("other")),
    ).toThrow();
  });

  it("adds an order for paging only when none is set", () => {
    expect(where({ a: "1" }).orderedBy("sys_id").toString()).toBe("a=1^ORDERBYsys_id");
    expect(q().eq("a", "1").orderBy("name").build().orderedBy("sys_id").toString()).toBe("a=1^ORDERBYname");
    expect(q().build().toString()).toBe("");
  });
});
