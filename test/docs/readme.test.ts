/**
 * The README is the front door: short, with the two lines a fresh clone runs, the
 * test line exactly as CI runs it, and links that lead somewhere. Everything else
 * lives in docs/, one page per topic; every relative link there must resolve too,
 * to an existing file and, where the link names one, to a heading of that page.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const README = path.join(ROOT, "README.md");

/** Comfortably above the front door's ~150 lines; a manual creeping back in fails here. */
const MAX_README_LINES = 200;

function read(file: string): string {
  return fs.readFileSync(file, "utf8");
}

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(p);
    return e.name.endsWith(".md") ? [p] : [];
  });
}

/** The text outside fenced code blocks, line for line (fenced lines become empty). */
export function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split("\n").map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === undefined) {
      if (open) {
        fence = open[1];
        return "";
      }
      return line;
    }
    if (open && open[1][0] === fence[0] && open[1].length >= fence.length && line.trim() === open[1]) fence = undefined;
    return "";
  });
}

/** The lines inside fenced code blocks. */
function codeLines(markdown: string): string[] {
  const prose = proseLines(markdown);
  return markdown.split("\n").filter((line, i) => prose[i] === "" && line.trim() !== "" && !/^\s*(`{3,}|~{3,})/.test(line));
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a page has: its headings' slugs (a repeated one gets -1, -2, …) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const h = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

/** The targets of a page's inline links and images, outside code. */
export function linkTargets(markdown: string): string[] {
  const out: string[] = [];
  for (const line of proseLines(markdown)) {
    const text = line.replace(/`[^`]*`/g, "");
    for (const m of text.matchAll(/\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  }
  return out;
}

/** What is wrong with each relative link of `file`: a missing file, or a missing anchor. */
function brokenLinks(file: string, root = ROOT): string[] {
  const problems: string[] = [];
  const where = path.relative(root, file);
  for (const target of linkTargets(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    const [rawPath, anchor] = target.split("#", 2);
    const resolved = rawPath === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rawPath));
    if (!resolved.startsWith(root + path.sep) && resolved !== root) {
      problems.push(`${where}: ${target} leaves the repository`);
      continue;
    }
    if (!fs.existsSync(resolved)) {
      problems.push(`${where}: ${target}: no such file`);
      continue;
    }
    if (anchor === undefined || anchor === "") continue;
    if (!resolved.endsWith(".md")) continue; // line anchors of source files are GitHub's, not checked here
    if (!anchorsOf(read(resolved)).has(decodeURIComponent(anchor))) {
      problems.push(`${where}: ${target}: no heading #${anchor} in ${path.relative(root, resolved)}`);
    }
  }
  return problems;
}

/**
 * The command .ci/run runs, as a person types it: the last command line of the script,
 * without the environment assignments CI adds in front of a command
 * (`KEYWIRE_REQUIRE_GO=1 npm test` is `npm test` with Go required).
 */
function ciTestLine(): string {
  const commands = read(path.join(ROOT, ".ci", "run"))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#") && !/^(set|cd)\b/.test(l));
  const last = commands[commands.length - 1];
  return last
    .split("&&")
    .map((part) => part.trim().replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/, ""))
    .join(" && ");
}

/** Whether a code block of the page has `command` as a line of its own (a trailing comment allowed). */
function hasCommandLine(markdown: string, command: string): boolean {
  const escaped = command.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const line = new RegExp(`^\\s*${escaped}\\s*(#.*)?$`);
  return codeLines(markdown).some((l) => line.test(l));
}

describe("the README is a front door", () => {
  const readme = read(README);

  test(`it has at most ${MAX_README_LINES} lines`, () => {
    expect(readme.replace(/\n$/, "").split("\n").length).toBeLessThanOrEqual(MAX_README_LINES);
  });

  test("it has the test line .ci/run runs, as its own line", () => {
    const line = ciTestLine();
    expect(line).toBe("npm ci && npm test");
    expect(hasCommandLine(readme, line)).toBe(true);
  });

  test("it has the demo line", () => {
    expect(hasCommandLine(readme, "npm ci && npm run demo")).toBe(true);
  });

  test("it says why the node dev dependency is there", () => {
    expect(readme).toMatch(/Node 20/);
    expect(readme).toMatch(/Node 22/);
    expect(readme).toMatch(/`node` dev dependency/);
  });
});

describe("relative links resolve", () => {
  const files = [README, path.join(ROOT, "CONTRIBUTING.md"), ...markdownFiles(path.join(ROOT, "docs"))];

  test.each(files.map((f) => [path.relative(ROOT, f), f]))("%s", (_name, file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe("the checker itself", () => {
  test("slugs follow GitHub's rule", () => {
    expect(slug("4. A lost state: taking the chain over again")).toBe("4-a-lost-state-taking-the-chain-over-again");
    expect(slug("Node 22, and installing with `npm ci`")).toBe("node-22-and-installing-with-npm-ci");
    expect(slug("At the engine's speed (issue 14)")).toBe("at-the-engines-speed-issue-14");
    expect(slug("What `pulumi up --refresh` does")).toBe("what-pulumi-up---refresh-does");
    expect(slug("keywire_tools and [a link](x.md)")).toBe("keywire_tools-and-a-link");
  });

  test("a repeated heading gets a numbered anchor; headings in code are not headings", () => {
    const anchors = anchorsOf("# Setup\n\n## Setup\n\n```sh\n# not a heading\n```\n");
    expect([...anchors]).toEqual(["setup", "setup-1"]);
  });

  test("a missing file, a missing anchor and a link out of the repository are reported", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "keywire-links-"));
    fs.mkdirSync(path.join(root, "docs"));
    fs.writeFileSync(path.join(root, "docs", "a.md"), "# A\n\n## Known part\n");
    const page = path.join(root, "README.md");
    fs.writeFileSync(
      page,
      "[ok](docs/a.md#known-part) [self](#top) [gone](docs/b.md) [no anchor](docs/a.md#other) [out](../x.md) [web](https://example.com/#x)\n\n# Top\n",
    );
    try {
      expect(brokenLinks(page, root)).toEqual([
        "README.md: docs/b.md: no such file",
        "README.md: docs/a.md#other: no heading #other in docs/a.md",
        "README.md: ../x.md leaves the repository",
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test("links in code spans and code blocks are not links", () => {
    expect(linkTargets('see [a](a.md#x) and `[b](b.md)`\n\n```\n[c](c.md)\n```\n[d](d.md "t")\n')).toEqual(["a.md#x", "d.md"]);
  });
});

describe("a team installs keywire with a command that works today", () => {
  // keywire is not on the npm registry yet (docs/install.md): `npm install keywire` answers 404.
  const version = (JSON.parse(read(path.join(ROOT, "package.json"))) as { version: string }).version;
  const pages = [README, path.join(ROOT, "docs", "adoption.md")];

  test.each(pages.map((p) => [path.relative(ROOT, p), p]))("%s installs from the release's git tag, not from the registry", (_, page) => {
    const text = read(page);
    expect(codeLines(text).filter((l) => /^\s*npm (install|i) keywire(@\S*)?\s*(#.*)?$/.test(l))).toEqual([]);
    expect(hasCommandLine(text, `npm install github:<owner>/keywire#v${version}`)).toBe(true);
  });
});
