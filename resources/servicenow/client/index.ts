/** The ServiceNow Table API client and what it is built from. */
export * from "./connection";
export * from "./encodedQuery";
export * from "./oauth";
export * from "./tableClient";
