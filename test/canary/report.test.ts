/** The canary's report as text (stdout), Markdown (files, the job summary) and as it may be printed (redacted). */
import { CanaryReport, EVENT_LEFT, formatCanaryMarkdown, formatCanaryText, redactCanaryReport } from "../../scripts/canary/report";

const MARKER = "keywire-delivery-check-canary-0123456789abcdef01234567";
const ARN = "arn:aws:sns:eu-west-1:123456789012:keywire-dev-alarms";
const SYS_ID = "e".repeat(32);

function report(over: Partial<CanaryReport> = {}): CanaryReport {
  return {
    stack: "dev",
    instance: "https://dev1.service-now.com",
    topicArn: ARN,
    marker: MARKER,
    subject: `OK: "${MARKER}" in eu-west-1`,
    publishedAt: "2030-01-01T00:00:00.400Z",
    messageId: "6b7c0d1e-aaaa-bbbb-cccc-000000000001",
    outcome: "delivered",
    exitCode: 0,
    timeoutSeconds: 90,
    latency: { publishToEventCreatedSeconds: 2, publishToSeenMs: 1530 },
    event: { sysId: SYS_ID, createdOn: "2030-01-01T00:00:02.000Z", severity: "0", messageKey: `123456789012:eu-west-1:${MARKER}`, state: "Processed" },
    detail: `SNS accepted the message (MessageId 6b7c0d1e-aaaa-bbbb-cccc-000000000001) and ServiceNow recorded it as em_event ${SYS_ID}: the chain delivers`,
    leaves: `one em_event row (${SYS_ID}) with Clear severity`,
    next: null,
    ...over,
  };
}

const NOT_DELIVERED = report({
  outcome: "not-delivered",
  exitCode: 7,
  latency: { publishToEventCreatedSeconds: null, publishToSeenMs: null },
  event: null,
  detail: "SNS accepted the message (MessageId m-1) and ServiceNow recorded no event",
  leaves: `nothing that ServiceNow recorded; should the event still arrive, ${EVENT_LEFT}`,
  next: "keywire drift --stack dev",
});

describe("text", () => {
  test("delivered: the outcome and both latencies on the first line, then the details", () => {
    expect(formatCanaryText(report())).toBe(
      [
        "canary dev: delivered (seen 1.5 s after publishing; created 2 s after publishing by the instance's clock)",
        `  topic:     ${ARN}`,
        "  instance:  https://dev1.service-now.com",
        `  marker:    ${MARKER}`,
        "  MessageId: 6b7c0d1e-aaaa-bbbb-cccc-000000000001",
        `  event:     em_event ${SYS_ID}, severity 0, message key 123456789012:eu-west-1:${MARKER}`,
        `  what happened: SNS accepted the message (MessageId 6b7c0d1e-aaaa-bbbb-cccc-000000000001) and ServiceNow recorded it as em_event ${SYS_ID}: the chain delivers`,
        `  leaves on the instance: one em_event row (${SYS_ID}) with Clear severity`,
        "",
      ].join("\n"),
    );
  });

  test("not delivered: NOT in capitals, no event line, and what to run next", () => {
    const text = formatCanaryText(NOT_DELIVERED);
    expect(text.split("\n")[0]).toBe("canary dev: NOT delivered");
    expect(text).not.toContain("  event:");
    expect(text).toContain("  what happened: SNS accepted the message (MessageId m-1) and ServiceNow recorded no event\n");
    expect(text.endsWith("  next: keywire drift --stack dev\n")).toBe(true);
  });

  test("a failed check without a MessageId", () => {
    const text = formatCanaryText(report({ outcome: "failed", exitCode: 1, messageId: null, event: null, detail: "SNS refused the publish" }));
    expect(text).toMatch(/^canary dev: check failed\n/);
    expect(text).toContain("  MessageId: -\n");
  });

  test("control characters from outside cannot forge lines", () => {
    const text = formatCanaryText(report({ messageId: "m-1\n::error::forged\u001b[31m" }));
    expect(text).toContain("  MessageId: m-1 ::error::forged [31m\n");
    expect(text.split("\n").filter((l) => l.startsWith("::error"))).toEqual([]);
  });
});

describe("Markdown", () => {
  test("delivered: heading, outcome, every field, and what it leaves", () => {
    const md = formatCanaryMarkdown(report());
    expect(md.startsWith("### keywire delivery canary: `dev`\n\n✅ **Delivered**: SNS accepted the message")).toBe(true);
    for (const row of [
      "| Outcome | delivered (exit 0) |",
      `| SNS topic | \`${ARN}\` |`,
      "| ServiceNow instance | `https://dev1.service-now.com` |",
      `| Marker (alarm name) | \`${MARKER}\` |`,
      "| SNS MessageId | `6b7c0d1e-aaaa-bbbb-cccc-000000000001` |",
      "| Published | 2030-01-01T00:00:00.400Z |",
      `| Event | \`${SYS_ID}\`, severity 0, message key \`123456789012:eu-west-1:${MARKER}\` |`,
      "| Publish → event created | 2 s (sys\\_created\\_on: the instance's clock, whole seconds) |",
      "| Publish → seen by the canary | 1.5 s |",
      "| Waited at most | 90 s |",
    ]) {
      expect(md).toContain(`\n${row}\n`);
    }
    expect(md).toContain(`\n**What it leaves on the instance:** one em\\_event row (${SYS_ID}) with Clear severity\n`);
    expect(md).not.toContain("**Next:**");
  });

  test("not delivered: the cross, no MessageId lost, no event, and the drift command to run", () => {
    const md = formatCanaryMarkdown(NOT_DELIVERED);
    expect(md).toContain("❌ **Not delivered**: SNS accepted the message (MessageId m-1) and ServiceNow recorded no event\n");
    expect(md).toContain("| Outcome | not-delivered (exit 7) |");
    expect(md).toContain("| Event | — |");
    expect(md).toContain("| Publish → seen by the canary | — |");
    expect(md.endsWith("\n**Next:** run `keywire drift --stack dev`: it names the broken link in the chain.\n")).toBe(true);
  });

  test("a failed check without a MessageId says so", () => {
    const md = formatCanaryMarkdown(report({ outcome: "failed", exitCode: 1, messageId: null, event: null }));
    expect(md).toContain("⚠️ **The check failed**");
    expect(md).toContain("| SNS MessageId | — (not accepted) |");
  });

  test("values from outside stay inert: no table breaks, links, mentions or HTML", () => {
    const md = formatCanaryMarkdown(
      report({ messageId: "a`b|c\nd", detail: "see [here](https://evil.example) @team <img src=x>", event: { ...report().event!, messageKey: "k|`x`" } }),
    );
    expect(md).toContain("| SNS MessageId | `a'b\\|c d` |");
    expect(md).toContain("see \\[here\\](https:&#47;&#47;evil.example) &#64;team \\<img src=x\\>");
    expect(md).toContain("message key `k\\|'x'`");
    // Every table line still has exactly its two cells.
    for (const line of md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| |"))) {
      expect(line.replace(/\\\|/g, "").split("|")).toHaveLength(4);
    }
  });
});

test("redaction reaches every string and leaves numbers and structure alone", () => {
  const secret = "pa55-Word-of-the-stack";
  const r = redactCanaryReport(
    report({ detail: `login failed for admin:${secret}`, leaves: "token now_AbCdEfGh1234567890 seen", next: `x-sn-apikey=${"k".repeat(20)}` }),
    [secret],
  );
  expect(r.detail).toBe("login failed for admin:[REDACTED]");
  expect(r.leaves).toBe("token [REDACTED] seen");
  expect(r.next).toBe("x-sn-apikey=[REDACTED]");
  expect(r.latency).toEqual({ publishToEventCreatedSeconds: 2, publishToSeenMs: 1530 });
  expect(r.marker).toBe(MARKER);
  expect(r.topicArn).toBe(ARN);
  expect(r.event).toEqual(report().event);
});
