/**
 * The Freshservice emulator: the slice of API v2 keywire uses (agents, roles, a ticket
 * list for verification), Basic auth with an agent's API key, per-minute rate limits
 * with their headers and 429, documented error bodies, `page`/`per_page` pagination.
 *
 * It stands in for `https://<domain>.freshservice.com`; the API lives under `/api/v2`.
 * Keys are made by test controls only, as a person makes them in the UI.
 */
import { OffsetClock } from "./clock";
import { directoryControls, keyControls, limitControls } from "./controls";
import { Faults } from "./faults";
import { Metrics } from "./metrics";
import { RateLimiter } from "./rateLimit";
import { apiHandlers } from "./routes";
import { listenFreshservice } from "./server";
import { AccountState } from "./state";
import { PLAN_RATE_LIMITS, type FreshserviceEmulatorOptions, type RateLimits, type RunningFreshserviceEmulator } from "./types";

export async function startFreshserviceEmulator(opts: FreshserviceEmulatorOptions = {}): Promise<RunningFreshserviceEmulator> {
  const domain = opts.domain ?? "keywire-test";
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(domain)) throw new Error("domain must be a Freshservice subdomain such as 'mycompany'");
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const maxAgents = opts.maxAgents ?? 1000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const clock = new OffsetClock(opts.now ?? Date.now);
  const now = () => clock.now();

  const initialLimits = (): RateLimits => ({ ...PLAN_RATE_LIMITS[opts.plan ?? "growth"], ...(opts.rateLimits ?? {}) });
  const account = new AccountState(domain, now);
  const limiter = new RateLimiter(initialLimits(), now);
  const metrics = new Metrics();
  const faults = new Faults();
  let baseUrl = "";

  const listening = await listenFreshservice(
    { account, limiter, metrics, faults, handlers: apiHandlers(account, { maxAgents, maxBodyBytes }), baseUrl: () => baseUrl },
    { ...(opts.port !== undefined ? { port: opts.port } : {}), requestTimeoutMs },
  );
  baseUrl = listening.url;

  return {
    url: baseUrl,
    domain,
    get adminAgentId() {
      return account.adminAgentId;
    },
    stop: () => listening.close(),
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    reset() {
      account.seed();
      limiter.limits = initialLimits();
      limiter.reset();
      faults.clear();
      clock.reset();
      metrics.reset();
    },
    ...keyControls(account),
    ...directoryControls(account, maxAgents),
    ...limitControls(limiter, clock),
    failNext: (f) => faults.add(f),
  };
}
