/**
 * Loaded with `node --require` into the Node processes the engine starts during a
 * benchmark run, and into the `keywire` command the drift check runs (NODE_OPTIONS,
 * set by run.ts and driftCheck.ts only). It appends one JSON line per event to
 * $KEYWIRE_BENCH_TIMING:
 *
 * - in the program: each closure serialization (`serializeFunction`), its duration
 *   and text size, and the program's exit;
 * - in the dynamic-provider plugin: the process start, each deserialization of a
 *   `__provider` text (`require-from-string`, then its handler, in which a reference
 *   loads its module) with its duration and size, and each provider method call with
 *   its duration;
 * - in the `keywire` command: its start, each command it runs (`pulumi config`,
 *   `pulumi preview`, …: the first argument, never the rest) with its duration, and
 *   its exit.
 *
 * Only names, sizes and times are written: never inputs, outputs or provider text.
 * Plain JavaScript so that it runs before any TypeScript hook is installed.
 */
"use strict";
const fs = require("fs");
const Module = require("module");

const file = process.env.KEYWIRE_BENCH_TIMING;
const script = String(process.argv[1] || "");
const role = /dynamic-provider/.test(script) ? "provider" : /cmd[\\/]run/.test(script) ? "program" : /[\\/]keywire\.js$/.test(script) ? "cli" : undefined;

if (file && role) {
  const write = (event) => {
    try {
      fs.appendFileSync(file, JSON.stringify({ pid: process.pid, role, t: Date.now(), ...event }) + "\n");
    } catch {
      // Measuring must never change the outcome of the run.
    }
  };
  // Epoch ms at which this process started, and the moment this hook ran.
  write({ event: "start", startedAt: Math.round(performance.timeOrigin), hookAt: Date.now() });

  const originalLoad = Module._load;
  const wrapped = new WeakSet();
  Module._load = function load(request, _parent, _isMain) {
    const exported = originalLoad.apply(this, arguments);
    if (role === "provider" && request === "require-from-string" && typeof exported === "function" && !wrapped.has(exported)) {
      const timed = function requireFromStringTimed(code, filename, opts) {
        const t0 = performance.now();
        const mod = exported(code, filename, opts);
        return wrapHandler(mod, performance.now() - t0, Buffer.byteLength(String(code)));
      };
      wrapped.add(timed);
      return timed;
    }
    if (role === "program" && exported && typeof exported.serializeFunction === "function" && /closure[\\/]serializeClosure/.test(String(request))) {
      if (!wrapped.has(exported)) {
        wrapped.add(exported);
        const original = exported.serializeFunction;
        exported.serializeFunction = async function serializeFunctionTimed() {
          const t0 = performance.now();
          const startedAt = Date.now();
          const result = await original.apply(this, arguments);
          write({ event: "serialize", startedAt, ms: performance.now() - t0, bytes: Buffer.byteLength(String(result && result.text)) });
          return result;
        };
      }
    }
    return exported;
  };

  /**
   * Writes the deserialization when the handler has run (the SDK calls it at once: a
   * reference loads its module there), and times each method of the provider it
   * returns (one provider per distinct text).
   */
  function wrapHandler(mod, compileMs, bytes) {
    if (!mod || typeof mod.handler !== "function") {
      write({ event: "deserialize", ms: compileMs, bytes });
      return mod;
    }
    const handler = mod.handler;
    mod.handler = function timedHandler() {
      const t0 = performance.now();
      let provider;
      try {
        provider = handler.apply(this, arguments);
      } finally {
        write({ event: "deserialize", ms: compileMs + performance.now() - t0, bytes });
      }
      if (!provider || typeof provider !== "object") return provider;
      const type = typeof provider.typeName === "string" ? provider.typeName : "unknown";
      for (const name of ["configure", "check", "diff", "create", "read", "update", "delete"]) {
        const fn = provider[name];
        if (typeof fn !== "function") continue;
        provider[name] = async function timedMethod() {
          const t0 = performance.now();
          const startedAt = Date.now();
          let ok = true;
          try {
            return await fn.apply(provider, arguments);
          } catch (err) {
            ok = false;
            throw err;
          } finally {
            write({ event: "method", type, method: name, startedAt, ms: performance.now() - t0, ok });
          }
        };
      }
      return provider;
    };
    return mod;
  }

  if (role === "program" || role === "cli") process.on("exit", () => write({ event: "exit" }));

  // The commands the keywire command runs, timed from spawn to exit.
  if (role === "cli") {
    const childProcess = require("child_process");
    const spawn = childProcess.spawn;
    childProcess.spawn = function timedSpawn(command, args) {
      const child = spawn.apply(this, arguments);
      const startedAt = Date.now();
      const t0 = performance.now();
      const what = `${require("path").basename(String(command))} ${Array.isArray(args) && args.length > 0 ? String(args[0]) : ""}`.trim();
      child.on("close", () => write({ event: "child", command: what, startedAt, ms: performance.now() - t0 }));
      return child;
    };
  }
}
