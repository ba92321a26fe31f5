/**
 * A typed builder for ServiceNow encoded queries (`sysparm_query`).
 *
 * The instance silently ignores invalid terms and treats `^` as a separator, so pasting
 * input into a query is an injection: a name containing `^ORactive=true` would add an
 * OR clause. Here every value is escaped (`^` → `^^`), field names are checked, and an
 * `EncodedQuery` can only be made by this builder: there is no way to pass raw text.
 *
 * A value starting with `javascript:` is not data to the instance: it evaluates the rest
 * as a server-side script (`name=javascript:gs.getUserID()`), with the caller's rights.
 * No escape exists for that prefix, so such values are refused here, the one place
 * queries are built; resource checks refuse them earlier, naming the property.
 */

const FIELD_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/;

/** Operators that compare a field with one value. */
export type ValueOperator = "=" | "!=" | "LIKE" | "NOT LIKE" | "STARTSWITH" | "ENDSWITH" | "<" | ">";
/** Operators that compare a field with a comma-separated list. */
export type ListOperator = "IN" | "NOT IN";
/** Operators that take no value. */
export type UnaryOperator = "ISEMPTY" | "ISNOTEMPTY";

function invalid(what: string): Error {
  // A programming error in keywire or its caller, not an operator problem: a plain Error is right.
  return new Error(`encoded query: ${what}`);
}

function checkField(field: string): string {
  if (typeof field !== "string" || !FIELD_NAME.test(field)) {
    throw invalid(`field name ${JSON.stringify(String(field)).slice(0, 80)} is not allowed; use lower-case names like "name" or "user.user_name"`);
  }
  return field;
}

/** Whether the instance would run `value` as a script in a query: `javascript:` first, any case, after blanks. */
export function startsWithScript(value: string): boolean {
  return /^javascript:/i.test(value.trim());
}

/** `^` is the term separator; ServiceNow reads `^^` as a literal caret. */
function escapeValue(value: string, field: string): string {
  if (typeof value !== "string") throw invalid(`the value for ${field} must be a string`);
  // The value itself is not repeated: it came from input and is refused unseen.
  if (startsWithScript(value)) throw invalid(`the value for ${field} starts with "javascript:", which the instance would run as a script`);
  if (value === "") throw invalid(`the value for ${field} is empty; use isEmpty("${field}") to match empty fields`);
  if (/[\r\n]/.test(value)) throw invalid(`the value for ${field} contains a line break, which encoded queries cannot carry`);
  return value.replace(/\^/g, "^^");
}

/** A finished encoded query. Only `q()`/`where()` can make one. */
export class EncodedQuery {
  private readonly text: string;
  private readonly ordered: boolean;

  /** @internal use `q()` or `where()` */
  private constructor(text: string, ordered: boolean) {
    this.text = text;
    this.ordered = ordered;
  }

  /** @internal */
  static fromBuilder(text: string, ordered: boolean, key: typeof BUILDER_KEY): EncodedQuery {
    if (key !== BUILDER_KEY) throw invalid("EncodedQuery can only be made with q() or where()");
    return new EncodedQuery(text, ordered);
  }

  /** The `sysparm_query` value. */
  toString(): string {
    return this.text;
  }

  toJSON(): string {
    return this.text;
  }

  /** True when the query has an ORDERBY term (pagination needs a stable order). */
  get hasOrder(): boolean {
    return this.ordered;
  }

  /** A copy with an extra ORDERBY term, unless one exists already. */
  orderedBy(field: string): EncodedQuery {
    if (this.ordered) return this;
    const term = `ORDERBY${checkField(field)}`;
    return new EncodedQuery(this.text ? `${this.text}^${term}` : term, true);
  }
}

const BUILDER_KEY: unique symbol = Symbol("EncodedQuery builder");

type Joiner = "^" | "^OR" | "^NQ";

export class QueryBuilder {
  private readonly terms: string[];
  private readonly order: string[];
  private next: Joiner | undefined;

  constructor() {
    this.terms = [];
    this.order = [];
    this.next = undefined;
  }

  private add(term: string): this {
    if (this.terms.length === 0) {
      if (this.next === "^OR" || this.next === "^NQ") throw invalid("or()/nq() must come between two conditions");
      this.terms.push(term);
    } else {
      this.terms.push(`${this.next ?? "^"}${term}`);
    }
    this.next = undefined;
    return this;
  }

  private joiner(j: Joiner): this {
    if (this.terms.length === 0 && j !== "^") throw invalid("or()/nq() must come between two conditions");
    if (this.next !== undefined && this.next !== "^") throw invalid("two joiners in a row");
    this.next = j;
    return this;
  }

  /** A condition with an explicit operator. */
  cond(field: string, op: ValueOperator, value: string): this;
  cond(field: string, op: ListOperator, values: readonly string[]): this;
  cond(field: string, op: UnaryOperator): this;
  cond(field: string, op: ValueOperator | ListOperator | UnaryOperator, value?: string | readonly string[]): this {
    const f = checkField(field);
    switch (op) {
      case "ISEMPTY":
      case "ISNOTEMPTY":
        return this.add(`${f}${op}`);
      case "IN":
      case "NOT IN": {
        if (!Array.isArray(value) || value.length === 0) throw invalid(`${op} on ${f} needs a non-empty list`);
        const items = (value as readonly string[]).map((v) => {
          // The list separator is a comma and the query syntax has no escape for it.
          if (typeof v === "string" && v.includes(",")) throw invalid(`a value in the ${op} list for ${f} contains a comma, which cannot be escaped`);
          return escapeValue(v, f);
        });
        return this.add(`${f}${op}${items.join(",")}`);
      }
      case "=":
      case "!=":
      case "LIKE":
      case "NOT LIKE":
      case "STARTSWITH":
      case "ENDSWITH":
      case "<":
      case ">":
        if (typeof value !== "string") throw invalid(`${op} on ${f} needs a string value`);
        return this.add(`${f}${op}${escapeValue(value, f)}`);
      default:
        throw invalid(`unknown operator ${JSON.stringify(String(op))}`);
    }
  }

  eq(field: string, value: string): this {
    return this.cond(field, "=", value);
  }
  ne(field: string, value: string): this {
    return this.cond(field, "!=", value);
  }
  like(field: string, value: string): this {
    return this.cond(field, "LIKE", value);
  }
  notLike(field: string, value: string): this {
    return this.cond(field, "NOT LIKE", value);
  }
  startsWith(field: string, value: string): this {
    return this.cond(field, "STARTSWITH", value);
  }
  endsWith(field: string, value: string): this {
    return this.cond(field, "ENDSWITH", value);
  }
  lt(field: string, value: string): this {
    return this.cond(field, "<", value);
  }
  gt(field: string, value: string): this {
    return this.cond(field, ">", value);
  }
  in(field: string, values: readonly string[]): this {
    return this.cond(field, "IN", values);
  }
  notIn(field: string, values: readonly string[]): this {
    return this.cond(field, "NOT IN", values);
  }
  isEmpty(field: string): this {
    return this.cond(field, "ISEMPTY");
  }
  isNotEmpty(field: string): this {
    return this.cond(field, "ISNOTEMPTY");
  }

  /** The next condition is AND-ed (the default; for readability). */
  and(): this {
    return this.joiner("^");
  }
  /** The next condition is OR-ed with the previous one (`^OR`). */
  or(): this {
    return this.joiner("^OR");
  }
  /** Start a new OR-ed group of conditions (`^NQ`). */
  nq(): this {
    return this.joiner("^NQ");
  }

  orderBy(field: string): this {
    this.order.push(`ORDERBY${checkField(field)}`);
    return this;
  }
  orderByDesc(field: string): this {
    this.order.push(`ORDERBYDESC${checkField(field)}`);
    return this;
  }

  build(): EncodedQuery {
    if (this.next === "^OR" || this.next === "^NQ") throw invalid("or()/nq() must be followed by a condition");
    const text = [this.terms.join(""), ...this.order].filter((t) => t !== "").join("^");
    return EncodedQuery.fromBuilder(text, this.order.length > 0, BUILDER_KEY);
  }
}

/** Start a query: `q().eq("name", v).or().eq("name", w).orderBy("name").build()`. */
export function q(): QueryBuilder {
  return new QueryBuilder();
}

/** Equality on every given field, AND-ed, in key order: `where({ name: v, active: "true" })`. */
export function where(fields: Readonly<Record<string, string>>): EncodedQuery {
  const b = q();
  for (const [k, v] of Object.entries(fields)) b.eq(k, v);
  return b.build();
}
