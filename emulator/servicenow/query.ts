/**
 * Encoded queries: `^` AND, `^OR` OR (binds to the previous term), `^NQ` a new OR'd group,
 * `ORDERBY`/`ORDERBYDESC`, `^^` for a literal caret. Terms that name no column or use no
 * known operator are dropped silently, as the platform does.
 */
import type { FieldType } from "./schema";

type Operator =
  | "="
  | "!="
  | "LIKE"
  | "NOT LIKE"
  | "STARTSWITH"
  | "ENDSWITH"
  | "IN"
  | "NOT IN"
  | "ISEMPTY"
  | "ISNOTEMPTY"
  | "EMPTYSTRING"
  | "ANYTHING"
  | "<"
  | ">"
  | "<="
  | ">=";

// Longest first, so `<=` wins over `<` and `NOT LIKE` over `LIKE`.
const OPERATORS: Operator[] = [
  "ISNOTEMPTY",
  "ISEMPTY",
  "EMPTYSTRING",
  "ANYTHING",
  "NOT LIKE",
  "NOT IN",
  "STARTSWITH",
  "ENDSWITH",
  "LIKE",
  "IN",
  "!=",
  "<=",
  ">=",
  "=",
  "<",
  ">",
];
const NO_VALUE = new Set<Operator>(["ISNOTEMPTY", "ISEMPTY", "EMPTYSTRING", "ANYTHING"]);

export interface Term {
  field: string;
  op: Operator;
  value: string;
}

interface OrderBy {
  field: string;
  desc: boolean;
}

export interface ParsedQuery {
  /** groups (joined by NQ, OR'd) -> AND'ed clauses -> OR'ed terms */
  groups: Term[][][];
  orderBy: OrderBy[];
}

/** Splits on `^`, reading `^^` as a literal caret. */
export function splitEncoded(q: string): string[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === "^") {
      if (q[i + 1] === "^") {
        cur += "^";
        i++;
        continue;
      }
      parts.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

const FIELD = /^[a-z0-9_.]+/;

function parseTerm(text: string): Term | undefined {
  const m = FIELD.exec(text);
  if (!m) return undefined;
  const field = m[0];
  const rest = text.slice(field.length);
  for (const op of OPERATORS) {
    if (rest.startsWith(op)) {
      const value = rest.slice(op.length);
      if (NO_VALUE.has(op) && value !== "") return undefined;
      return { field, op, value };
    }
  }
  return undefined;
}

export function parseEncodedQuery(q: string): ParsedQuery {
  const groups: Term[][][] = [[]];
  const orderBy: OrderBy[] = [];
  if (!q) return { groups, orderBy };
  for (const token of splitEncoded(q)) {
    if (!token || token === "EQ") continue;
    if (token.startsWith("ORDERBYDESC")) {
      orderBy.push({ field: token.slice(11), desc: true });
      continue;
    }
    if (token.startsWith("ORDERBY")) {
      orderBy.push({ field: token.slice(7), desc: false });
      continue;
    }
    if (token.startsWith("GROUPBY")) continue;
    let group = groups[groups.length - 1];
    let text = token;
    let or = false;
    if (token.startsWith("NQ")) {
      group = [];
      groups.push(group);
      text = token.slice(2);
    } else if (token.startsWith("OR")) {
      or = true;
      text = token.slice(2);
    }
    const term = parseTerm(text);
    if (!term) continue;
    if (or && group.length > 0) group[group.length - 1].push(term);
    else group.push([term]);
  }
  return { groups, orderBy };
}

type Predicate<R> = (r: R) => boolean;

/** How the evaluator reads a (possibly dot-walked) field; undefined = no such column. */
export type FieldResolver<R> = (field: string) => { get: (r: R) => string; type: FieldType } | undefined;

function isNumeric(type: FieldType): boolean {
  return type === "integer";
}

function compareValues(a: string, b: string, numeric: boolean): number {
  if (numeric) {
    const x = Number(a);
    const y = Number(b);
    if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function termPredicate<R>(term: Term, get: (r: R) => string, type: FieldType): Predicate<R> {
  const v = term.value;
  const numeric = isNumeric(type);
  switch (term.op) {
    case "=":
      return (r) => get(r) === v;
    case "!=":
      return (r) => get(r) !== v;
    case "LIKE":
      return (r) => get(r).includes(v);
    case "NOT LIKE":
      return (r) => !get(r).includes(v);
    case "STARTSWITH":
      return (r) => get(r).startsWith(v);
    case "ENDSWITH":
      return (r) => get(r).endsWith(v);
    case "IN": {
      const set = new Set(v.split(","));
      return (r) => set.has(get(r));
    }
    case "NOT IN": {
      const set = new Set(v.split(","));
      return (r) => !set.has(get(r));
    }
    case "ISEMPTY":
    case "EMPTYSTRING":
      return (r) => get(r) === "";
    case "ISNOTEMPTY":
      return (r) => get(r) !== "";
    case "ANYTHING":
      return () => true;
    case "<":
      return (r) => get(r) !== "" && compareValues(get(r), v, numeric) < 0;
    case ">":
      return (r) => get(r) !== "" && compareValues(get(r), v, numeric) > 0;
    case "<=":
      return (r) => get(r) !== "" && compareValues(get(r), v, numeric) <= 0;
    case ">=":
      return (r) => get(r) !== "" && compareValues(get(r), v, numeric) >= 0;
  }
}

export interface CompiledQuery<R> {
  /** undefined when nothing filters (every row matches) */
  predicate: Predicate<R> | undefined;
  /** undefined when no valid ORDERBY */
  compare: ((a: R, b: R) => number) | undefined;
}

export function compileQuery<R>(parsed: ParsedQuery, resolve: FieldResolver<R>, extra: Term[] = []): CompiledQuery<R> {
  const groupPreds: Predicate<R>[] = [];
  let anyGroupUnfiltered = false;
  for (const group of parsed.groups) {
    const clauses: Predicate<R>[] = [];
    for (const ors of [...group, ...extra.map((t) => [t])]) {
      const preds: Predicate<R>[] = [];
      for (const t of ors) {
        const f = resolve(t.field);
        if (f) preds.push(termPredicate(t, f.get, f.type));
      }
      if (preds.length === 1) clauses.push(preds[0]);
      else if (preds.length > 1) clauses.push((r) => preds.some((p) => p(r)));
    }
    if (clauses.length === 0) anyGroupUnfiltered = true;
    else if (clauses.length === 1) groupPreds.push(clauses[0]);
    else groupPreds.push((r) => clauses.every((p) => p(r)));
  }
  let predicate: Predicate<R> | undefined;
  if (!anyGroupUnfiltered) predicate = groupPreds.length === 1 ? groupPreds[0] : (r) => groupPreds.some((p) => p(r));

  const keys: Array<{ get: (r: R) => string; numeric: boolean; desc: boolean }> = [];
  for (const o of parsed.orderBy) {
    const f = resolve(o.field);
    if (f) keys.push({ get: f.get, numeric: isNumeric(f.type), desc: o.desc });
  }
  const compare =
    keys.length === 0
      ? undefined
      : (a: R, b: R) => {
          for (const k of keys) {
            const c = compareValues(k.get(a), k.get(b), k.numeric);
            if (c !== 0) return k.desc ? -c : c;
          }
          return 0;
        };
  return { predicate, compare };
}
