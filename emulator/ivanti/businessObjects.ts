/** The emulated business objects, their `$metadata`, and the OData query subset. */
import { randomBytes } from "node:crypto";

type FieldType = "Edm.String" | "Edm.Int32" | "Edm.Boolean" | "Edm.DateTimeOffset";
type FieldValue = string | number | boolean | null;
export type BoRecord = Record<string, FieldValue>;

export interface ObjectDef {
  /** Entity set name as used in URLs (`incidents`). */
  set: string;
  /** Entity type name (`Incident`). */
  type: string;
  fields: Record<string, FieldType>;
}

export const OBJECTS: readonly ObjectDef[] = [
  {
    set: "incidents",
    type: "Incident",
    fields: {
      RecId: "Edm.String",
      IncidentNumber: "Edm.Int32",
      Subject: "Edm.String",
      Status: "Edm.String",
      Priority: "Edm.String",
      OwnerTeam: "Edm.String",
      CreatedDateTime: "Edm.DateTimeOffset",
    },
  },
  {
    set: "employees",
    type: "Employee",
    fields: {
      RecId: "Edm.String",
      LoginID: "Edm.String",
      DisplayName: "Edm.String",
      PrimaryEmail: "Edm.String",
      Status: "Edm.String",
      IsInternalAuth: "Edm.Boolean",
    },
  },
  {
    set: "changes",
    type: "Change",
    fields: { RecId: "Edm.String", ChangeNumber: "Edm.Int32", Subject: "Edm.String", Status: "Edm.String", CreatedDateTime: "Edm.DateTimeOffset" },
  },
  {
    set: "problems",
    type: "Problem",
    fields: { RecId: "Edm.String", ProblemNumber: "Edm.Int32", Subject: "Edm.String", Status: "Edm.String", CreatedDateTime: "Edm.DateTimeOffset" },
  },
];

/** Role -> entity sets it may read. */
export const ROLES: Readonly<Record<string, readonly string[]>> = {
  Admin: ["incidents", "employees", "changes", "problems"],
  ServiceDeskAnalyst: ["incidents", "changes", "problems", "employees"],
  SelfService: ["incidents"],
};

export const MAX_RECORDS_PER_OBJECT = 5000;
export const MAX_TOP = 100;
export const DEFAULT_TOP = 25;

export function newRecId(): string {
  return randomBytes(16).toString("hex").toUpperCase();
}

export function findObject(name: string): ObjectDef | undefined {
  const n = name.toLowerCase();
  return OBJECTS.find((o) => o.set === n);
}

const SEED_TIME = "2024-02-01T08:00:00Z";

export function seedRecords(): Map<string, BoRecord[]> {
  const m = new Map<string, BoRecord[]>();
  m.set(
    "incidents",
    [1, 2, 3, 4].map((n) => ({
      RecId: newRecId(),
      IncidentNumber: 10000 + n,
      Subject: `Seeded incident ${n}`,
      Status: n % 2 ? "Active" : "Resolved",
      Priority: String(1 + (n % 3)),
      OwnerTeam: "Service Desk",
      CreatedDateTime: SEED_TIME,
    })),
  );
  m.set("employees", [
    {
      RecId: newRecId(),
      LoginID: "InternalServices",
      DisplayName: "Internal Services",
      PrimaryEmail: "internal.services@example.com",
      Status: "Active",
      IsInternalAuth: true,
    },
    { RecId: newRecId(), LoginID: "admin", DisplayName: "Administrator", PrimaryEmail: "admin@example.com", Status: "Active", IsInternalAuth: true },
  ]);
  m.set("changes", [{ RecId: newRecId(), ChangeNumber: 501, Subject: "Seeded change", Status: "Logged", CreatedDateTime: SEED_TIME }]);
  m.set("problems", [{ RecId: newRecId(), ProblemNumber: 301, Subject: "Seeded problem", Status: "Logged", CreatedDateTime: SEED_TIME }]);
  return m;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A small EDMX document describing the emulated objects. */
export function metadataXml(): string {
  const types = OBJECTS.map((o) => {
    const props = Object.entries(o.fields)
      .map(([name, t]) => `<Property Name="${xmlEscape(name)}" Type="${t}"${name === "RecId" ? ' Nullable="false"' : ""}/>`)
      .join("");
    return `<EntityType Name="${o.type}"><Key><PropertyRef Name="RecId"/></Key>${props}</EntityType>`;
  }).join("");
  const sets = OBJECTS.map((o) => `<EntitySet Name="${o.set}" EntityType="Ivanti.${o.type}"/>`).join("");
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">` +
    `<edmx:DataServices><Schema Namespace="Ivanti" xmlns="http://docs.oasis-open.org/odata/ns/edm">` +
    `${types}<EntityContainer Name="Container">${sets}</EntityContainer>` +
    `</Schema></edmx:DataServices></edmx:Edmx>`
  );
}

export interface Clause {
  field: string;
  op: "eq" | "ne";
  value: FieldValue;
}

/** `$filter`: `Field eq 'text'` / `Field ne 5` / `Field eq true` / `Field eq null`, joined by `and`. */
export function parseFilter(filter: string, def: ObjectDef): Clause[] | string {
  if (filter.length > 1024) return "$filter is too long";
  const parts = filter.split(/\s+and\s+/i);
  if (parts.length > 10) return "$filter has too many terms";
  const out: Clause[] = [];
  for (const p of parts) {
    const m = /^\s*([A-Za-z][A-Za-z0-9_]{0,63})\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(-?\d{1,15})|(true|false)|(null))\s*$/i.exec(p);
    if (!m) return "$filter could not be parsed";
    if (!(m[1] in def.fields)) return `Field '${m[1]}' is not part of business object '${def.type}'`;
    const value: FieldValue =
      m[3] !== undefined ? m[3].replace(/''/g, "'") : m[4] !== undefined ? Number(m[4]) : m[5] !== undefined ? m[5].toLowerCase() === "true" : null;
    out.push({ field: m[1], op: m[2].toLowerCase() as "eq" | "ne", value });
  }
  return out;
}

export function matches(r: BoRecord, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    const v = r[c.field] ?? null;
    const same = typeof v === "string" && typeof c.value === "string" ? v.toLowerCase() === c.value.toLowerCase() : v === c.value;
    return c.op === "eq" ? same : !same;
  });
}
