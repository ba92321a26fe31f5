/**
 * The inputs table of each ServiceNow record's docs page, generated from the record's
 * declaration (resources/servicenow/engine/declaration.ts): every input with its type,
 * whether it is required or its default, the column it is stored in, and the doc
 * comment written above it; then the engine's own inputs. The rest of each page is
 * written by hand; the table sits between two markers.
 *
 *   npm run docs:records     rewrites the tables of the pages that are stale
 *
 * test/docs/recordTables.test.ts fails while a committed table differs from what this
 * writes, so a page cannot drift from its resource.
 */
import "../../config/requireNode22";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as zod from "zod";
import type { AnyRecordDeclaration } from "../../resources/servicenow/engine/declaration";
import type { FieldDef } from "../../resources/servicenow/engine/spec";
import { fromColumn } from "../../resources/servicenow/engine/columns";
import { apiKeyRecord } from "../../resources/servicenow/apiKey/apiKey";
import { accessPolicyRecord } from "../../resources/servicenow/records/accessPolicy";
import { accessPolicyProfileLinkRecord } from "../../resources/servicenow/records/accessPolicyProfileLink";
import { basicAuthProfileRecord } from "../../resources/servicenow/records/basicAuthProfile";
import { inboundProfileRecord } from "../../resources/servicenow/records/inboundProfile";
import { pushConnectorRecord } from "../../resources/servicenow/records/pushConnector";
import { rateLimitRuleRecord } from "../../resources/servicenow/records/rateLimitRule";
import { serviceNowUserRecord } from "../../resources/servicenow/records/user";
import { userRoleGrantRecord } from "../../resources/servicenow/records/userRoleGrant";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The engine's inputs a resource's arguments take (AdoptionInputs; `identity` is the constructor's). */
type EngineInput = "adopt" | "onDestroy" | "connection";
const ALL_ENGINE_INPUTS: readonly EngineInput[] = ["adopt", "onDestroy", "connection"];

export interface RecordPage {
  record: AnyRecordDeclaration;
  /** The file whose doc comments describe the inputs (where the declaration's inputs are written). */
  source: string;
  page: string;
  engineInputs: readonly EngineInput[];
}

/** Every record resource and its page. test/docs/recordTables.test.ts checks none is missing. */
export const RECORD_PAGES: readonly RecordPage[] = [
  { record: apiKeyRecord, source: "resources/servicenow/apiKey/inputs.ts", page: "docs/resources/api-key.md", engineInputs: ALL_ENGINE_INPUTS },
  { record: serviceNowUserRecord, source: "resources/servicenow/records/user.ts", page: "docs/resources/servicenow-user.md", engineInputs: ALL_ENGINE_INPUTS },
  {
    record: userRoleGrantRecord,
    source: "resources/servicenow/records/userRoleGrant.ts",
    page: "docs/resources/user-role-grant.md",
    engineInputs: ALL_ENGINE_INPUTS,
  },
  {
    record: inboundProfileRecord,
    source: "resources/servicenow/records/inboundProfile.ts",
    page: "docs/resources/inbound-profile.md",
    engineInputs: ALL_ENGINE_INPUTS,
  },
  {
    record: accessPolicyRecord,
    source: "resources/servicenow/records/accessPolicy.ts",
    page: "docs/resources/access-policy.md",
    engineInputs: ALL_ENGINE_INPUTS,
  },
  {
    record: accessPolicyProfileLinkRecord,
    source: "resources/servicenow/records/accessPolicyProfileLink.ts",
    page: "docs/resources/access-policy-profile-link.md",
    engineInputs: ALL_ENGINE_INPUTS,
  },
  // Always taken over and left as it is: only the instance is the program's to choose.
  {
    record: basicAuthProfileRecord,
    source: "resources/servicenow/records/basicAuthProfile.ts",
    page: "docs/resources/basic-auth-profile.md",
    engineInputs: ["connection"],
  },
  {
    record: pushConnectorRecord,
    source: "resources/servicenow/records/pushConnector.ts",
    page: "docs/resources/push-connector.md",
    engineInputs: ALL_ENGINE_INPUTS,
  },
  {
    record: rateLimitRuleRecord,
    source: "resources/servicenow/records/rateLimitRule.ts",
    page: "docs/resources/rate-limit-rule.md",
    engineInputs: ALL_ENGINE_INPUTS,
  },
];

/** Where the engine's inputs are declared, with their doc comments (the `AdoptionInputs` interface). */
const ENGINE_SOURCE = "resources/servicenow/engine/spec.ts";

export const BEGIN = (p: RecordPage): string =>
  `<!-- inputs: generated from ${p.source} by \`npm run docs:records\`; edit the declaration there, not this table -->`;
export const END = "<!-- end of generated inputs -->";

/** A doc comment's text on one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Text for a Markdown table cell: a `|` would end the cell. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** A node's doc comment on one line, or undefined. */
function docOf(node: ts.Node): string | undefined {
  const comment = ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? "")
    .join(" ");
  return comment.trim() === "" ? undefined : oneLine(comment);
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(path.resolve(ROOT, file), "utf8"), ts.ScriptTarget.ES2022, true);
}

/** The doc comments of a file's declared entries (`name: column(…)`, `setting(…)`, `written(…)`), by property. */
export function declaredDocs(file: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAssignment(node) &&
      ts.isIdentifier(node.name) &&
      ts.isCallExpression(node.initializer) &&
      ts.isIdentifier(node.initializer.expression) &&
      ["column", "setting", "written"].includes(node.initializer.expression.text)
    ) {
      if (out.has(node.name.text)) throw new Error(`${file}: ${node.name.text} is declared twice`);
      out.set(node.name.text, docOf(node));
    }
    ts.forEachChild(node, visit);
  };
  visit(parse(file));
  return out;
}

/** A member's type as written, for a table: a Pulumi input as the value it takes, literals and names in code. */
function writtenType(node: ts.TypeNode, sf: ts.SourceFile): string {
  if (ts.isTypeReferenceNode(node) && node.typeName.getText(sf) === "pulumi.Input" && node.typeArguments?.length === 1)
    return writtenType(node.typeArguments[0], sf);
  if (ts.isUnionTypeNode(node)) return node.types.map((t) => writtenType(t, sf)).join(" | ");
  if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return shown(node.literal.text);
  if (ts.isTypeReferenceNode(node)) return `\`${node.getText(sf)}\``;
  return node.getText(sf);
}

/** The members of an interface: each one's doc comment and type, by property. */
function interfaceMembers(file: string, name: string): Map<string, { doc: string | undefined; type: string }> {
  const out = new Map<string, { doc: string | undefined; type: string }>();
  const sf = parse(file);
  for (const st of sf.statements) {
    if (!ts.isInterfaceDeclaration(st) || st.name.text !== name) continue;
    for (const m of st.members) {
      if (ts.isPropertySignature(m) && ts.isIdentifier(m.name) && m.type) out.set(m.name.text, { doc: docOf(m), type: writtenType(m.type, sf) });
    }
  }
  return out;
}

/** The subset of JSON Schema that zod writes for keywire's inputs. */
interface JsonSchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
}

/** A value as the tables show it: text as it is, anything else as JSON. */
function shown(value: unknown): string {
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

/** A property's type as a program gives it. */
export function typeText(schema: JsonSchema): string {
  if (schema.const !== undefined) return shown(schema.const);
  if (schema.enum) return schema.enum.map(shown).join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeText).join(" | ");
  switch (schema.type) {
    case "array":
      return `${schema.items ? typeText(schema.items) : "unknown"}[]`;
    case "object": {
      const required = new Set(schema.required ?? []);
      const props = Object.keys(schema.properties ?? {}).map((p) => (required.has(p) ? p : `${p}?`));
      return `\`{ ${props.join(", ")} }\``;
    }
    case "integer":
      return "number";
    case undefined:
      return "unknown";
    default:
      return schema.type;
  }
}

/** The schema zod writes for what a program may give (`io: "input"`: a default makes a property optional). */
function jsonSchemaOf(schema: zod.ZodType): { properties: Record<string, JsonSchema>; required: string[] } {
  const json = zod.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return { properties: json.properties ?? {}, required: json.required ?? [] };
}

/** Where the input is stored, and what the engine does with that column. */
function columnText(record: RecordPage["record"], prop: string, field: FieldDef | undefined, carried: boolean, secret: boolean): string {
  if (!field) return carried || secret ? "— (kept in the state)" : "—";
  const notes: string[] = [];
  if (field.kind === "datetime") notes.push("date-time, `YYYY-MM-DD HH:MM:SS` UTC");
  if (field.kind === "list") notes.push(field.lookup ? `list of \`${field.lookup.table}\` records, by \`${field.lookup.by}\` or sys_id` : "list");
  if (field.kind === "reference") {
    if (field.lookup) notes.push(`reference to \`${field.lookup.table}\`, by \`${field.lookup.by}\` or sys_id`);
    else notes.push(record.resolvers[prop] ? "reference, found by keywire" : "reference, by sys_id");
  }
  if (record.naturalKey.includes(prop)) notes.push("natural key");
  if (field.replaceOnChange) notes.push("a change replaces the record");
  if (field.createOnly) notes.push("written at creation only");
  return [`\`${field.column}\``, ...notes].join("; ");
}

/** The inputs table of one page, with the markers around it. */
export function inputsTable(p: RecordPage): string {
  const { record } = p;
  const described = declaredDocs(p.source);
  const engineInputs = interfaceMembers(ENGINE_SOURCE, "AdoptionInputs");
  const own = jsonSchemaOf(record.schema(zod));
  const rows: string[] = ["| input | type | required / default | column | meaning |", "|---|---|---|---|---|"];
  const fixed: string[] = [];
  for (const [prop, input] of Object.entries(record.inputs)) {
    const description = described.get(prop);
    if (description === undefined) throw new Error(`${p.source}: ${record.typeName}.${prop} has no doc comment; the docs' table shows it`);
    if (!input.schema) {
      // A column keywire writes itself: not an input, but the page says what it holds.
      if (!input.field?.defaultValue) throw new Error(`${p.source}: ${record.typeName}.${prop} has neither a schema nor a value`);
      fixed.push(`keywire also writes \`${input.field.column}\`, always ${shown(fromColumn(input.field, input.field.defaultValue))}. ${description}`);
      continue;
    }
    const schema = own.properties[prop];
    const fieldDefault = input.field?.defaultValue !== undefined ? fromColumn(input.field, input.field.defaultValue) : undefined;
    const required =
      fieldDefault !== undefined
        ? shown(fieldDefault)
        : schema.default !== undefined
          ? shown(schema.default)
          : own.required.includes(prop)
            ? "required"
            : "optional";
    const type = `${typeText(schema)}${input.secret ? ", secret" : ""}`;
    const columnCell = columnText(record, prop, input.field, input.carried === true, input.secret === true);
    rows.push(`| \`${prop}\` | ${cell(type)} | ${cell(required)} | ${cell(columnCell)} | ${cell(description)} |`);
  }
  for (const prop of p.engineInputs) {
    const member = engineInputs.get(prop);
    if (member?.doc === undefined) throw new Error(`${ENGINE_SOURCE}: AdoptionInputs.${prop} has no doc comment`);
    rows.push(`| \`${prop}\` | ${cell(member.type)} | optional | — | ${cell(member.doc)} |`);
  }
  const after = [...fixed];
  if (p.engineInputs.includes("adopt")) {
    after.push("`adopt` and `onDestroy` work alike for every record: [Adopting existing records](../adoption.md#adopting-existing-records).");
  }
  return [BEGIN(p), "", ...rows, ...after.flatMap((line) => ["", line]), "", END].join("\n");
}

/** The page with its table as generated; throws when the page has no markers to put it between. */
export function renderPage(p: RecordPage, page: string): string {
  const start = page.indexOf("<!-- inputs: generated");
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${p.page}: no generated inputs table (put the markers where it goes: ${BEGIN(p)} … ${END})`);
  return page.slice(0, start) + inputsTable(p) + page.slice(end + END.length);
}

function main(): void {
  for (const p of RECORD_PAGES) {
    const file = path.join(ROOT, p.page);
    const before = fs.readFileSync(file, "utf8");
    const after = renderPage(p, before);
    if (after === before) continue;
    fs.writeFileSync(file, after);
    process.stdout.write(`${p.page}: table rewritten\n`);
  }
}

if (require.main === module) main();
