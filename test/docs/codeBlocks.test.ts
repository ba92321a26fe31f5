/**
 * Every TypeScript block of README.md and docs/ compiles, so an example cannot drift
 * from the API it shows. The fence says against what (CONTRIBUTING.md, "Code blocks
 * in the docs"):
 *   ```ts           a program that installs keywire: type-checked against the packed
 *                   package (with @pulumi/aws installed beside it) under the tsconfig
 *                   of Pulumi's typescript template;
 *   ```ts checkout  code that runs in keywire's checkout (tests, the emulators):
 *                   type-checked against the sources under tsconfig.json, its imports
 *                   written from the repository's root;
 *   ```ts fragment  not compiled (a piece of a larger block; rare).
 * Each compiled block is a module of its own: it imports what it uses.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { REPO_ROOT } from "../../scripts/shared/paths";
import { NPM_TIMEOUT_MS, packKeywire } from "../../scripts/package/packed";
import { TEMPLATE_COMPILER_OPTIONS, checkoutAwsVersion, installTemplateProgram, typeCheck } from "../package/templateProgram";

jest.setTimeout(5 * 60_000);

/** The fence's info string after `ts` → the kind of block. */
const MARKERS = { "": "program", checkout: "checkout", fragment: "fragment" } as const;
type Kind = (typeof MARKERS)[keyof typeof MARKERS];
const markerKind = (info: string): Kind | undefined => (Object.hasOwn(MARKERS, info) ? MARKERS[info as keyof typeof MARKERS] : undefined);

interface Block {
  /** The markdown file, from the repository's root. */
  file: string;
  /** The fence's line (1-based): the block's first line is the next one. */
  line: number;
  /** Undefined where the fence names no kind this test knows. */
  kind: Kind | undefined;
  /** The fence's info string after the language. */
  info: string;
  code: string;
}

function markdownFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(REPO_ROOT, "docs"), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
  return ["README.md", ...docs.sort()];
}

/** The ```ts (or ```typescript) blocks of a markdown text, indented ones (in a list) included. */
function typeScriptBlocks(file: string, markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, info] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && /^[`~]+$/.test(lines[end].trim()) && lines[end].trim()[0] === fence[0])) end++;
    if (lang === "ts" || lang === "typescript") {
      const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
      blocks.push({ file, line: i + 1, kind: markerKind(info.trim()), info: info.trim(), code: `${body.join("\n")}\n` });
    }
    i = end;
  }
  return blocks;
}

const BLOCKS = markdownFiles().flatMap((file) => typeScriptBlocks(file, fs.readFileSync(path.join(REPO_ROOT, file), "utf8")));
const where = (b: Block): string => `${b.file}:${b.line}`;
const ofKind = (kind: Kind): Block[] => BLOCKS.filter((b) => b.kind === kind);
/** A file name per block that says where it came from: docs/resources/api-key.md:240 → docs_resources_api-key_240.ts. */
const fileNameOf = (b: Block): string => `${b.file.replace(/\.md$/, "").replace(/[^\w-]/g, "_")}_${b.line}.ts`;

/** Diagnostics as `docs/x.md:<line>: <message>`, the line the markdown's own. */
function atMarkdown(b: Block, lineInBlock: number, message: string): string {
  return `${b.file}:${b.line + lineInBlock}: ${message}`;
}

test("every TypeScript block says how it compiles, and each compiled one is a module that imports what it uses", () => {
  expect(BLOCKS.filter((b) => b.kind === undefined).map((b) => `${where(b)}: \`\`\`ts ${b.info}`)).toEqual([]);
  const notModules = BLOCKS.filter(
    (b) => b.kind !== undefined && b.kind !== "fragment" && !ts.isExternalModule(ts.createSourceFile("block.ts", b.code, ts.ScriptTarget.ES2022, true)),
  );
  expect(notModules.map(where)).toEqual([]);
  // The extraction sees the docs at all: the resource pages are programs.
  expect(ofKind("program").filter((b) => b.file.startsWith("docs/resources/")).length).toBeGreaterThan(10);
});

describe("program blocks", () => {
  let work: string;
  let program: string;
  const env = { ...process.env };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-docs-blocks-"));
    const { tarball } = await packKeywire(work, env);
    program = path.join(work, "program");
    await installTemplateProgram(program, tarball, env, { aws: checkoutAwsVersion(REPO_ROOT) });
  }, NPM_TIMEOUT_MS + 60_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("type-check against the packed package under the tsconfig of Pulumi's typescript template", async () => {
    const blocks = ofKind("program");
    const dir = path.join(program, "blocks");
    fs.mkdirSync(dir, { recursive: true });
    const byName = new Map<string, Block>();
    for (const b of blocks) {
      byName.set(fileNameOf(b), b);
      fs.writeFileSync(path.join(dir, fileNameOf(b)), b.code);
    }
    const tsconfig = path.join(program, "tsconfig.blocks.json");
    fs.writeFileSync(tsconfig, JSON.stringify({ compilerOptions: TEMPLATE_COMPILER_OPTIONS, files: [...byName.keys()].map((f) => `blocks/${f}`) }));
    const tsc = await typeCheck(program, env, tsconfig);
    const problems = tsc.output
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const m = /^blocks\/([^(]+)\((\d+),\d+\): (.*)$/.exec(l);
        const b = m && byName.get(m[1]);
        return b && m ? atMarkdown(b, Number(m[2]), m[3]) : l;
      });
    expect(problems).toEqual([]);
    expect(tsc.code).toBe(0);
  });
});

test("checkout blocks type-check against the sources under tsconfig.json", () => {
  const blocks = ofKind("checkout");
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(REPO_ROOT, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("tsconfig.json did not parse");
  // Each block as a file at the repository's root, so its imports resolve from there.
  const virtual = new Map(blocks.map((b) => [path.join(REPO_ROOT, `.docs-block-${fileNameOf(b)}`), b]));
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const b = virtual.get(path.resolve(fileName));
    return b ? ts.createSourceFile(fileName, b.code, languageVersion, true) : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || fileExists(fileName);
  // An example may name a result without using it, as the template's settings allow too.
  const options = { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: string[] = [];
  for (const sf of program.getSourceFiles()) {
    const b = virtual.get(path.resolve(sf.fileName));
    if (!b) continue;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
      problems.push(atMarkdown(b, line, ts.flattenDiagnosticMessageText(d.messageText, " ")));
    }
  }
  expect(problems).toEqual([]);
  expect(blocks.length).toBeGreaterThan(0);
});
