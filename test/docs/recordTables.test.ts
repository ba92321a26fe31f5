/**
 * Each ServiceNow record's docs page shows the inputs its declaration has: the table
 * between the page's markers is what scripts/docs/recordTables.ts writes from the
 * declaration (`npm run docs:records` rewrites a stale one), every record has a page,
 * and the table names exactly the declared inputs and the engine's, each with its
 * required-ness or default and the doc comment written above it in the code.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zod from "zod";
import * as ts from "typescript";
import { BEGIN, END, RECORD_PAGES, ROOT, declaredDocs, inputsTable, renderPage } from "../../scripts/docs/recordTables";
import { fromColumn } from "../../resources/servicenow/engine/columns";

const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), "utf8");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The type names of every `defineRecord({ typeName: … })` in the library. */
function declaredRecords(): string[] {
  const names: string[] = [];
  for (const file of sourceFiles(path.join(ROOT, "resources"))) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "defineRecord") {
        const arg = node.arguments[0];
        const typeName =
          arg && ts.isObjectLiteralExpression(arg)
            ? arg.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText(sf) === "typeName")
            : undefined;
        if (!typeName || !ts.isStringLiteral(typeName.initializer)) throw new Error(`${file}: a defineRecord call without a literal typeName`);
        names.push(typeName.initializer.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return names.sort();
}

/** The rows of the generated table: each input's cells, by input. */
function tableRows(page: string): Map<string, { type: string; required: string; column: string; meaning: string }> {
  const start = page.indexOf("<!-- inputs: generated");
  const block = page.slice(start, page.indexOf(END, start));
  const rows = new Map<string, { type: string; required: string; column: string; meaning: string }>();
  for (const line of block.split("\n").filter((l) => l.startsWith("| `"))) {
    // Cells split on `|` that is not escaped as `\|`.
    const [input, type, required, column, meaning] = line
      .slice(2, -2)
      .split(/ (?<!\\)\| /)
      .map((c) => c.replace(/\\\|/g, "|"));
    rows.set(input.replace(/`/g, ""), { type, required, column, meaning });
  }
  return rows;
}

test("every record the library declares has a page with an inputs table", () => {
  expect(RECORD_PAGES.map((p) => p.record.typeName).sort()).toEqual(declaredRecords());
  for (const p of RECORD_PAGES) {
    const page = read(p.page);
    expect(page).toContain(BEGIN(p));
    expect(page).toContain(END);
  }
});

test.each(RECORD_PAGES.map((p) => [p.record.typeName, p] as const))(
  "%s: the page's inputs table is the declaration's (npm run docs:records rewrites it)",
  (_name, p) => {
    const page = read(p.page);
    const fresh = renderPage(p, page);
    if (fresh !== page) {
      throw new Error(`${p.page} is stale against ${p.source}: run \`npm run docs:records\` and commit the page`);
    }
  },
);

test.each(RECORD_PAGES.map((p) => [p.record.typeName, p] as const))(
  "%s: the table names each declared input once, with its required-ness or default and its doc comment, and no other",
  (_name, p) => {
    const rows = tableRows(read(p.page));
    const docs = declaredDocs(p.source);
    const schema = p.record.schema(zod) as zod.ZodObject<Record<string, zod.ZodType>>;
    const inputs = Object.entries(p.record.inputs).filter(([, input]) => input.schema !== undefined);
    expect([...rows.keys()].sort()).toEqual([...inputs.map(([prop]) => prop), ...p.engineInputs].sort());
    for (const [prop, input] of inputs) {
      const row = rows.get(prop)!;
      // The check's own answer: an input left out is refused, defaulted, or left out.
      const leftOut = schema.shape[prop].safeParse(undefined);
      const defaulted =
        input.field?.defaultValue !== undefined ? fromColumn(input.field, input.field.defaultValue) : leftOut.success ? leftOut.data : undefined;
      const expected = !leftOut.success ? "required" : defaulted !== undefined ? `\`${String(defaulted)}\`` : "optional";
      expect(`${prop}: ${row.required}`).toBe(`${prop}: ${expected}`);
      expect(row.meaning).toBe(docs.get(prop));
      expect(row.type).not.toBe("");
      if (input.field) expect(row.column).toContain(`\`${input.field.column}\``);
      else expect(row.column).toMatch(/^—/);
    }
  },
);

test("a page with a row missing is stale, and the table is written back whole", () => {
  const p = RECORD_PAGES.find((r) => r.record.typeName === "ServiceNowUser")!;
  const page = read(p.page);
  const edited = page.replace(/^\| `email` .*\n/m, "");
  expect(edited).not.toBe(page);
  expect(renderPage(p, edited)).toBe(page);
});

test("an input without a doc comment stops the table: the page would show it without a meaning", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-record-docs-"));
  try {
    const user = RECORD_PAGES.find((r) => r.record.typeName === "ServiceNowUser")!;
    const source = path.join(dir, "user.ts");
    fs.writeFileSync(source, read(user.source).replace(/^\s*\/\*\* An e-mail address[^\n]*\*\/\n/m, ""));
    expect(() => inputsTable({ ...user, source })).toThrow(/ServiceNowUser\.email has no doc comment/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
