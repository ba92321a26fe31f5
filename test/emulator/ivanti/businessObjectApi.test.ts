import { businessObjectRoute, readBusinessObjects, type BusinessObjectRoute } from "../../../emulator/ivanti/businessObjectApi";
import { RecordStore } from "../../../emulator/ivanti/records";
import type { RefusalReason } from "../../../emulator/ivanti/types";

function parts() {
  const refused: RefusalReason[] = [];
  return {
    refused,
    records: new RecordStore(),
    metrics: { refused: (r: RefusalReason) => refused.push(r) },
    metadataUrl: () => "http://127.0.0.1:1/api/odata/$metadata",
  };
}

function list(q: string, role = "Admin") {
  const route = businessObjectRoute("businessobject/incidents") as BusinessObjectRoute;
  return readBusinessObjects(parts(), route, new URLSearchParams(q), role);
}

describe("Ivanti emulator: the OData routes read without a server", () => {
  test("paths map to routes; the RecId is taken as written", () => {
    expect(businessObjectRoute("$metadata")).toEqual({ pattern: "$metadata" });
    expect(businessObjectRoute("businessobject/Incidents/")).toEqual({ pattern: "businessobject/{object}", object: "Incidents" });
    expect(businessObjectRoute("businessobject/incidents('a'b')")).toEqual({
      pattern: "businessobject/{object}('{RecId}')",
      object: "incidents",
      recId: "a'b",
    });
    expect(businessObjectRoute("businessobject/incidents/x")).toBeUndefined();
    expect(businessObjectRoute("other")).toBeUndefined();
  });

  test("of several bad query options, the first in the fixed order is the one reported", () => {
    const message = (q: string) => {
      const r = list(q);
      return r.status === 400 && "json" in r ? (r.json as { message: string[] }).message[0] : `status ${r.status}`;
    };
    const all = "$select=Nope&$orderby=Nope&$filter=bad&$skip=x&$top=x&$expand=x";
    expect(message(all)).toBe("Query option '$expand' is not supported");
    expect(message(all.replace("&$expand=x", ""))).toBe("$top must be a whole number from 0 to 100");
    expect(message("$select=Nope&$orderby=Nope&$filter=bad&$skip=x")).toBe("$skip must be a whole number");
    expect(message("$select=Nope&$orderby=Nope&$filter=bad")).toBe("$filter could not be parsed");
    expect(message("$select=Nope&$orderby=Nope")).toBe("$orderby must name one field, optionally with asc or desc");
    expect(message("$select=Nope")).toBe("Field 'Nope' is not part of business object 'Incident'");
  });

  test("filter, order, page and select apply in that order; the count is of the filtered rows", () => {
    const r = list("$filter=Status eq 'Active'&$orderby=IncidentNumber desc&$skip=1&$top=1&$select=IncidentNumber");
    expect(r).toEqual({
      status: 200,
      json: { "@odata.context": "http://127.0.0.1:1/api/odata/$metadata#incidents", "@odata.count": 2, value: [{ IncidentNumber: 10001 }] },
    });
  });

  test("a role that may not read the object is refused, and the refusal counted", () => {
    const p = parts();
    const r = readBusinessObjects(p, { pattern: "businessobject/{object}", object: "employees" }, new URLSearchParams(), "SelfService");
    expect(r.status).toBe(403);
    expect(p.refused).toEqual(["role_forbidden"]);
  });
});
