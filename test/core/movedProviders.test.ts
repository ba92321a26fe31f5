/**
 * States written before the provider modules moved name their old paths, and the
 * loader's old home: both still lead to today's providers.
 */
import * as path from "path";

type Loader = (ref: { module: string; exportName: string }) => { check: (olds: object, news: object) => Promise<{ failures?: unknown[] }> };

// The loader's old path forwards to the current loader.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the path under test is plain JavaScript, loaded by path as a state names it
const load = require(path.resolve("resources/shared/loadProvider.js")) as Loader;

test.each([
  // As a program in keywire's root stores it.
  ["resources/servicenow/inboundProfile.ts", "inboundProfileProvider"],
  // As a program elsewhere stores it: a path that climbs to the checkout first.
  [`../${path.basename(process.cwd())}/resources/servicenow/apiKey.ts`, "apiKeyProvider"],
])("a reference to %s loads the provider from where it lives now", async (module, exportName) => {
  const provider = load({ module, exportName });
  // It is the real provider: its check refuses inputs without a name.
  expect((await provider.check({}, {})).failures?.length).toBeGreaterThan(0);
});

test("a reference to a module that never existed still fails, naming it", () => {
  expect(() => load({ module: "resources/servicenow/nothing.ts", exportName: "x" })).toThrow(/resources\/servicenow\/nothing\.ts/);
});
