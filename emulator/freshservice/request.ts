/** What a route handler is given, and what it answers with. */
import type { IncomingMessage } from "node:http";
import type { Reply } from "./reply";
import type { AgentEntry } from "./state";

export interface ApiRequest {
  /** For a body to read, or to drain one the handler does not read. */
  req: IncomingMessage;
  query: URLSearchParams;
  /** The agent whose key the request carries. */
  agent: AgentEntry;
  /** The id in the path, on routes that have one. */
  id?: number;
  /** This request's absolute URL without the query: what a Link header's next page builds on. */
  selfUrl: string;
}

/** Rate-limit headers are added by the pipeline; a handler's reply carries only its own. */
export type ApiHandler = (r: ApiRequest) => Reply | Promise<Reply>;
