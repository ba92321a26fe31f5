/**
 * The package's declarations without zod's: a step of the build, after tsc.
 *
 * tsc writes zod's types into dist/**\/*.d.ts wherever the library's types come from
 * zod: the schemas a program builds with its own zod (`keySettingsSchema(z)`) and the
 * settings inferred from them (`KeySettings`). zod's declarations type-check only with
 * `esModuleInterop` (or `skipLibCheck`); Pulumi's TypeScript template sets neither, so
 * every program made from it failed on zod's files as soon as it imported keywire.
 *
 * This step reads the emitted declarations with the checker and writes each zod type
 * as keywire's own:
 *   - zod's builders (`typeof z`, `typeof import("zod")`) as `Zod`;
 *   - a schema as `Schema<Output, Input>` (`OptionalSchema` for an optional one), its
 *     two types spelled out as the checker resolves them;
 *   - an inferred type (`z.infer<…>`, `z.input<…>`) spelled out the same way;
 *   - zod's error map, error and issue as `ErrorMap`, `ValidationError`, `Issue`;
 * from dist/schema.d.ts (scripts/package/schema.d.ts), and drops the imports of zod.
 * A zod type it cannot spell out stops the build, naming the declaration: keywire's
 * API then needs a type of its own there.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** The facade's name in dist/, and where the build copies it from. */
export const SCHEMA_DECLARATIONS = "schema.d.ts";
const SCHEMA_SOURCE = path.join(__dirname, SCHEMA_DECLARATIONS);
/** How the rewritten files refer to the facade (a namespace import, so no name of theirs can clash). */
const NS = "keywireSchema";
/** Nesting deeper than this is not a settings type (a recursive schema): stop rather than loop. */
const MAX_DEPTH = 16;

/** zod types that are neither schemas nor data, by their declared name: the facade's stand-in. */
const NAMED: Record<string, string> = {
  $ZodErrorMap: "ErrorMap",
  ZodError: "ValidationError",
  $ZodError: "ValidationError",
  $ZodIssue: "Issue",
  $ZodRawIssue: "Issue",
};

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  // zod's declarations need it to resolve; the output never names them.
  esModuleInterop: true,
  skipLibCheck: true,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  target: ts.ScriptTarget.ES2022,
  types: ["node"],
};

function declarationFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".d.ts"))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const isZodFile = (fileName: string): boolean => /[\\/]node_modules[\\/]zod[\\/]/.test(fileName);
const isZodSpecifier = (text: string): boolean => text === "zod" || text.startsWith("zod/");

class Unspellable extends Error {}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Rewrites one program's worth of declarations; returns file → new text for the files it changed. */
function rewriteAll(files: string[], distDir: string): Map<string, string> {
  const program = ts.createProgram(files, COMPILER_OPTIONS);
  const checker = program.getTypeChecker();
  const out = new Map<string, string>();

  const resolved = (symbol: ts.Symbol | undefined): ts.Symbol | undefined =>
    symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const fromZod = (symbol: ts.Symbol | undefined): boolean => (resolved(symbol)?.declarations ?? []).some((d) => isZodFile(d.getSourceFile().fileName));

  /** The rightmost name a type node refers through, if it is a reference of any kind. */
  function referenceName(node: ts.Node): ts.Node | undefined {
    if (ts.isTypeReferenceNode(node)) return ts.isQualifiedName(node.typeName) ? node.typeName.right : node.typeName;
    if (ts.isTypeQueryNode(node)) return ts.isQualifiedName(node.exprName) ? node.exprName.right : node.exprName;
    if (ts.isExpressionWithTypeArguments(node)) return ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
    return undefined;
  }

  function refersToZod(node: ts.Node): boolean {
    if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      return ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal) && isZodSpecifier(arg.literal.text);
    }
    const name = referenceName(node);
    return name !== undefined && fromZod(checker.getSymbolAtLocation(name));
  }

  /** Whether the node names zod's module or its `z` namespace (the builders), not a type in it. */
  function namesBuilders(node: ts.Node): boolean {
    if (ts.isImportTypeNode(node)) return node.isTypeOf && node.qualifier === undefined;
    if (!ts.isTypeQueryNode(node)) return false;
    const symbol = resolved(checker.getSymbolAtLocation(referenceName(node)!));
    return symbol !== undefined && (symbol.flags & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) !== 0;
  }

  const propertyType = (type: ts.Type, name: string, at: ts.Node): ts.Type | undefined => {
    const prop = checker.getPropertyOfType(type, name);
    return prop && checker.getTypeOfSymbolAtLocation(prop, at);
  };

  function spell(type: ts.Type, at: ts.Node, depth: number, indent: string): string {
    if (depth > MAX_DEPTH) throw new Unspellable(`nested deeper than ${MAX_DEPTH} levels`);
    const f = type.flags;
    if (f & ts.TypeFlags.Any) return "any";
    if (f & ts.TypeFlags.Unknown) return "unknown";
    if (f & ts.TypeFlags.Boolean) return "boolean";
    if (
      f &
      (ts.TypeFlags.String |
        ts.TypeFlags.Number |
        ts.TypeFlags.BigInt |
        ts.TypeFlags.ESSymbol |
        ts.TypeFlags.Void |
        ts.TypeFlags.Undefined |
        ts.TypeFlags.Null |
        ts.TypeFlags.Never |
        ts.TypeFlags.BooleanLiteral)
    ) {
      return checker.typeToString(type);
    }
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    if (f & ts.TypeFlags.TypeParameter) return type.symbol.name;
    if (type.isUnion()) {
      const parts = type.types;
      const hasTrue = parts.some((t) => checker.typeToString(t) === "true" && t.flags & ts.TypeFlags.BooleanLiteral);
      const hasFalse = parts.some((t) => checker.typeToString(t) === "false" && t.flags & ts.TypeFlags.BooleanLiteral);
      const spelled: string[] = [];
      for (const t of parts) {
        if (hasTrue && hasFalse && t.flags & ts.TypeFlags.BooleanLiteral) {
          if (!spelled.includes("boolean")) spelled.push("boolean");
          continue;
        }
        spelled.push(member(t, at, depth, indent));
      }
      // A member widened to unknown (below) takes the union with it, as the checker would.
      if (spelled.includes("unknown")) return "unknown";
      // `string | undefined`, as people write it (the checker orders by type id).
      const last = (t: string): number => (t === "undefined" || t === "null" ? 1 : 0);
      return spelled.sort((a, b) => last(a) - last(b)).join(" | ");
    }
    if (type.isIntersection()) return type.types.map((t) => member(t, at, depth, indent)).join(" & ");
    if (f & ts.TypeFlags.IndexedAccess) {
      const ia = type as ts.IndexedAccessType;
      return `${member(ia.objectType, at, depth, indent)}[${spell(ia.indexType, at, depth + 1, indent)}]`;
    }
    if (f & ts.TypeFlags.Object) return spellObject(type as ts.ObjectType, at, depth, indent);
    if (f & (ts.TypeFlags.Conditional | ts.TypeFlags.Substitution)) {
      // zod's type functions, left deferred on a type parameter (a generic helper's
      // schema): spelled as what every instantiation satisfies, the parameter's constraint.
      const constraint = checker.getBaseConstraintOfType(type);
      if (constraint && constraint !== type) return spell(constraint, at, depth + 1, indent);
    }
    throw new Unspellable(`cannot spell out ${checker.typeToString(type)}`);
  }

  /** A union or intersection member, parenthesized where the operator would bind it otherwise. */
  function member(type: ts.Type, at: ts.Node, depth: number, indent: string): string {
    const text = spell(type, at, depth + 1, indent);
    return type.isUnion() || type.isIntersection() ? `(${text})` : text;
  }

  function spellObject(type: ts.ObjectType, at: ts.Node, depth: number, indent: string): string {
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      const readonly = (type as ts.TypeReference).target.symbol?.name === "ReadonlyArray";
      return `${readonly ? "readonly " : ""}${member(element, at, depth, indent)}[]`;
    }
    if (checker.isTupleType(type)) {
      const target = (type as ts.TypeReference).target as ts.TupleType;
      if (target.elementFlags.some((e) => !(e & ts.ElementFlags.Required))) throw new Unspellable(`cannot spell out the tuple ${checker.typeToString(type)}`);
      const elements = checker.getTypeArguments(type as ts.TypeReference).map((t) => spell(t, at, depth + 1, indent));
      return `${target.readonly ? "readonly " : ""}[${elements.join(", ")}]`;
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      throw new Unspellable(`cannot spell out the function type ${checker.typeToString(type)}`);
    }
    // A named type of the default library (Date, RegExp) keeps its name; any other named
    // type would need an import of its own here.
    const named =
      type.symbol && !(type.objectFlags & (ts.ObjectFlags.Anonymous | ts.ObjectFlags.Mapped | ts.ObjectFlags.ReverseMapped)) ? type.symbol : undefined;
    if (named && named.name !== "__type" && named.name !== "__object") {
      const inLib = (named.declarations ?? []).every((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()));
      if (inLib) return checker.typeToString(type);
      throw new Unspellable(
        `cannot spell out ${checker.typeToString(type)}, a named type of ${named.declarations?.[0]?.getSourceFile().fileName ?? "another module"}`,
      );
    }
    const inner = `${indent}    `;
    const lines: string[] = [];
    for (const info of checker.getIndexInfosOfType(type)) {
      lines.push(
        `${inner}${info.isReadonly ? "readonly " : ""}[key: ${spell(info.keyType, at, depth + 1, inner)}]: ${spell(info.type, at, depth + 1, inner)};`,
      );
    }
    for (const prop of checker.getPropertiesOfType(type)) {
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      const readonly = (prop.declarations ?? []).some((d) => (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly) !== 0);
      const key = /^[A-Za-z_$][\w$]*$/.test(prop.name) ? prop.name : JSON.stringify(prop.name);
      const propType = checker.getTypeOfSymbolAtLocation(prop, at);
      lines.push(`${inner}${readonly ? "readonly " : ""}${key}${optional ? "?" : ""}: ${spell(propType, at, depth + 1, inner)};`);
    }
    return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
  }

  /** keywire's own text for a type node that refers to zod. */
  function replacement(node: ts.TypeNode, indent: string): string {
    if (namesBuilders(node)) return `${NS}.Zod`;
    const type = checker.getTypeFromTypeNode(node);
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const stand = symbol && fromZod(symbol) ? NAMED[symbol.name] : undefined;
    if (stand) return `${NS}.${stand}`;
    const slot = propertyType(type, "_zod", node);
    if (slot) {
      const output = propertyType(slot, "output", node);
      const input = propertyType(slot, "input", node);
      if (!output || !input) throw new Unspellable(`a schema without zod's output and input types: ${checker.typeToString(type)}`);
      const optout = propertyType(slot, "optout", node);
      const optional = optout !== undefined && optout.isStringLiteral() && optout.value === "optional";
      return `${NS}.${optional ? "OptionalSchema" : "Schema"}<${spell(output, node, 1, indent)}, ${spell(input, node, 1, indent)}>`;
    }
    return spell(type, node, 0, indent);
  }

  for (const sf of program.getSourceFiles()) {
    if (!files.includes(path.resolve(sf.fileName)) && !files.includes(sf.fileName)) continue;
    const edits: Edit[] = [];
    const removeStatement = (st: ts.Statement): void => {
      const end = sf.text[st.end] === "\n" ? st.end + 1 : st.end;
      edits.push({ start: st.getStart(sf), end, text: "" });
    };
    const visit = (node: ts.Node): void => {
      if (
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier) &&
        isZodSpecifier(node.moduleSpecifier.text)
      ) {
        if (ts.isExportDeclaration(node)) throw new Unspellable(`re-exports zod (${node.getText(sf)})`);
        removeStatement(node);
        return;
      }
      if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
        const spec = node.moduleReference.expression;
        if (ts.isStringLiteral(spec) && isZodSpecifier(spec.text)) {
          removeStatement(node);
          return;
        }
      }
      if (ts.isTypeNode(node) && refersToZod(node)) {
        const line = sf.text.lastIndexOf("\n", node.getStart(sf)) + 1;
        const indent = /^\s*/.exec(sf.text.slice(line))![0];
        try {
          edits.push({ start: node.getStart(sf), end: node.getEnd(), text: replacement(node, indent) });
        } catch (err) {
          if (!(err instanceof Unspellable)) throw err;
          const { line: l, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
          throw new Error(`${path.relative(distDir, sf.fileName)}:${l + 1}:${character + 1}: ${node.getText(sf)}: ${err.message}`, { cause: err });
        }
        return;
      }
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(sf, visit);
    if (edits.length === 0) continue;
    if (new RegExp(`\\b${NS}\\b`).test(sf.text)) throw new Error(`${path.relative(distDir, sf.fileName)} already uses the name ${NS}`);
    let text = sf.text;
    for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
    let facade = path
      .relative(path.dirname(sf.fileName), path.join(distDir, SCHEMA_DECLARATIONS.replace(/\.d\.ts$/, "")))
      .split(path.sep)
      .join("/");
    if (!facade.startsWith(".")) facade = `./${facade}`;
    out.set(sf.fileName, insertAfterHeader(text, `import type * as ${NS} from "${facade}";\n`));
  }
  return out;
}

/** Puts `line` after the file's leading comment, where its imports begin. */
function insertAfterHeader(text: string, line: string): string {
  const header = /^(\s*\/\*[\s\S]*?\*\/\s*\n)?/.exec(text)![0];
  return `${header}${line}${text.slice(header.length)}`;
}

/** The declaration files in `distDir` that import zod's, in any form. */
export function filesImportingZod(distDir: string): string[] {
  return declarationFiles(distDir)
    .filter((file) => {
      // Import declarations, `export … from`, and import types (`typeof import("zod")`); not comments.
      const imports = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
      return imports.some(isZodSpecifier);
    })
    .map((file) => path.relative(distDir, file).split(path.sep).join("/"));
}

/**
 * Rewrites the library's declarations (`emitted`: tsc's output in `distDir`) so that
 * none names zod's, and adds the facade they name instead. Throws, naming the
 * declaration, where a zod type cannot be written as keywire's own.
 */
export function rewriteDeclarations(distDir: string, emitted: string[]): void {
  // Only the files that import zod need the checker (the program still reads what they import).
  const importing = new Set(filesImportingZod(distDir).map((rel) => path.join(distDir, rel)));
  const files = emitted.filter((f) => importing.has(f));
  const rewritten = rewriteAll(files, distDir);
  for (const [file, text] of rewritten) fs.writeFileSync(file, text);
  fs.copyFileSync(SCHEMA_SOURCE, path.join(distDir, SCHEMA_DECLARATIONS));
  const left = filesImportingZod(distDir);
  if (left.length > 0) throw new Error(`declarations still import zod after the rewrite: ${left.join(", ")}`);
}
