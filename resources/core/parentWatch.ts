/**
 * Stops a dynamic-provider process once the Pulumi engine that started it is gone.
 *
 * The engine (the `pulumi` CLI) starts each plugin in a process group of its own and
 * stops them itself at the end of a run. When the CLI is killed outright (SIGKILL: a CI
 * timeout, a cancelled job), nothing stops them: the provider is reparented and goes on
 * with the call it was serving (a create, the token read after it, a probe) against the
 * instance, for a run whose result nobody will record. The Node SDK's provider server
 * (`@pulumi/pulumi/cmd/dynamic-provider`) has no such check of its own.
 *
 * Two signs, looked for from an unref'd timer (the watch never keeps a process alive):
 * - its parent process changed: the CLI died and the process was reparented.
 *   keywire's plugin script `exec`s node, so there the CLI is the parent;
 * - nothing listens at the engine's address any more: for a provider whose parent is
 *   not the CLI (an official CLI's plugin script runs node as a child of `sh`, and that
 *   shell outlives the CLI). Only a loopback address is probed, as the engine serves there;
 *   the engine closes its server only after it has stopped its plugins.
 * On either the process exits at once: a request in flight is dropped with it, and no
 * further one starts.
 *
 * Started in one place: providerLoading/loadProvider.js calls startProviderWatch when
 * a dynamic-provider process loads a keywire provider. A process has one parent, so the
 * one watch of the process is kept here.
 */
import * as net from "net";

/** How often the parent is looked at: a getppid() call, nothing more. */
const CHECK_EVERY_MS = 200;
/** How often the engine's address is tried (one loopback connect, closed at once). */
const PROBE_EVERY_MS = 1_000;
/** A probe that neither connects nor is refused within this time proves nothing. */
const PROBE_TIMEOUT_MS = 1_000;
/** The exit code of a provider stopped by the watch; no engine is left to read it. */
export const STOPPED_EXIT_CODE = 1;

/** Where the engine serves: a loopback host and a port. */
export interface EngineAddress {
  host: string;
  port: number;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/;

/**
 * The engine's address among a provider process's arguments: the engine passes it
 * as a bare `host:port` (after any logging flags). Undefined unless it is a loopback
 * address, so nothing else is ever probed.
 */
export function engineAddressIn(args: readonly string[]): EngineAddress | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const m = LOOPBACK.exec(args[i]);
    if (!m) continue;
    const port = Number(m[2]);
    if (port < 1 || port > 65_535) return undefined;
    return { host: m[1] === "[::1]" ? "::1" : m[1], port };
  }
  return undefined;
}

/**
 * Whether a connection to `addr` is refused, i.e. nothing listens there. A connection
 * that opens is closed at once; one that neither opens nor fails within `timeoutMs`
 * (a stopped or busy engine) is not taken as proof.
 */
function engineRefuses(addr: EngineAddress, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: addr.host, port: addr.port });
    socket.unref();
    const done = (refused: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(refused);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    socket.once("connect", () => done(false));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED"));
  });
}

export interface WatchOptions {
  /** The parent the process had when the watch started. */
  parentPid: number;
  /** The engine's address, probed as the second sign; without it only the parent is watched. */
  engine?: EngineAddress;
  /** Called once, with why, when the engine is gone; the watch has stopped by then. */
  onGone(reason: string): void;
  /** The current parent's pid (process.ppid, read anew each time). */
  currentParent?: () => number;
  checkEveryMs?: number;
  probeEveryMs?: number;
}

export interface EngineWatch {
  stop(): void;
}

/** Watches for the engine's end as the module comment says, until it is seen or stop() is called. */
export function watchEngine(opts: WatchOptions): EngineWatch {
  const currentParent = opts.currentParent ?? ((): number => process.ppid);
  const probeEvery = opts.probeEveryMs ?? PROBE_EVERY_MS;
  let stopped = false;
  let probing = false;
  let lastProbe = 0;
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
  };
  const gone = (reason: string): void => {
    if (stopped) return;
    stop();
    opts.onGone(reason);
  };
  const tick = (): void => {
    const parent = currentParent();
    if (parent !== opts.parentPid) return gone(`its parent process ${opts.parentPid} ended`);
    const engine = opts.engine;
    if (!engine || probing || Date.now() - lastProbe < probeEvery) return;
    probing = true;
    lastProbe = Date.now();
    void engineRefuses(engine).then((refused) => {
      probing = false;
      if (refused) gone(`nothing listens at the engine's address ${engine.host}:${engine.port}`);
    });
  };
  const timer = setInterval(tick, opts.checkEveryMs ?? CHECK_EVERY_MS);
  timer.unref();
  return { stop };
}

/** Whether `args` (process.argv) are those of the Node SDK's dynamic-provider server. */
export function isProviderProcess(args: readonly string[]): boolean {
  return /[\\/]cmd[\\/]dynamic-provider([\\/]index\.js)?$/.test(args[1] ?? "");
}

let started: EngineWatch | undefined;

/**
 * Starts this process's watch if it is a dynamic-provider process (and only once);
 * elsewhere (the program, a test that loads a provider) it does nothing and returns
 * undefined. When the engine is gone, says so on stderr and exits.
 */
export function startProviderWatch(args: readonly string[] = process.argv): EngineWatch | undefined {
  if (started || !isProviderProcess(args)) return started;
  const engine = engineAddressIn(args.slice(2));
  started = watchEngine({
    parentPid: process.ppid,
    ...(engine ? { engine } : {}),
    onGone: (reason) => {
      try {
        process.stderr.write(`keywire: the Pulumi engine is gone (${reason}); the provider stops so that no further request reaches the instance\n`);
      } catch {
        // Nobody may be left to read stderr; the exit below is what matters.
      }
      process.exit(STOPPED_EXIT_CODE);
    },
  });
  return started;
}
