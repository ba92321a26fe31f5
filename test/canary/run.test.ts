/**
 * One canary run's decisions, with SNS and ServiceNow replaced by functions and a clock
 * that moves only when the run sleeps: what each outcome reports, and that the wait
 * is bounded.
 */
import type { SnRecord } from "../../resources/servicenow/client/tableClient";
import { keywireCommand, npmScript } from "../../scripts/cli/invocation";
import { CanaryMessage } from "../../scripts/canary/message";
import { PublishFailure } from "../../scripts/canary/publish";
import { CanaryCannotRun, CanaryDeps, glideTimeMs, runCanary } from "../../scripts/canary/run";
import { parseTopicArn } from "../../scripts/canary/topic";
import { MAX_POLLS, POLL_PAUSES_MS, WaitClock, waitForEvent } from "../../scripts/canary/wait";

const MARKER = "keywire-delivery-check-canary-0123456789abcdef01234567";
const TOPIC = parseTopicArn("arn:aws:sns:eu-west-1:123456789012:keywire-dev-alarms")!;
/** 2030-01-01 00:00:00.400 UTC */
const T0 = Date.UTC(2030, 0, 1, 0, 0, 0, 400);

interface Clock extends WaitClock {
  sleeps: number[];
}

function clock(start = T0): Clock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** As a team runs it: the installed `keywire canary`. */
const RUN = { stack: "dev", instance: "https://dev1.service-now.com", topic: TOPIC, timeoutSeconds: 90, invoke: keywireCommand };

interface Fakes {
  deps: CanaryDeps;
  published: CanaryMessage[];
  finds: number;
}

/** Deps whose `find` answers with the i-th entry of `answers` (the last one repeats). */
function fakes(c: Clock, answers: Array<SnRecord | undefined | Error>, publish: () => Promise<string> = async () => "mid-1"): Fakes {
  const f: Fakes = {
    published: [],
    finds: 0,
    deps: {
      publish: async (msg) => {
        f.published.push(msg);
        return publish();
      },
      find: async (marker) => {
        expect(marker).toBe(MARKER);
        const a = answers[Math.min(f.finds++, answers.length - 1)];
        if (a instanceof Error) throw a;
        return a;
      },
      clock: c,
      describe: (e) => (e instanceof Error ? e.message : String(e)),
      marker: () => MARKER,
    },
  };
  return f;
}

const EVENT: SnRecord = {
  sys_id: "e".repeat(32),
  sys_created_on: "2030-01-01 00:00:02",
  severity: "0",
  message_key: `123456789012:eu-west-1:${MARKER}`,
  state: "Processed",
  source: "aws",
  resource: MARKER,
};

describe("runCanary", () => {
  test("delivered: the message, the event and both latencies", async () => {
    const c = clock();
    // Nothing before publishing, nothing on the first poll, the event on the second.
    const f = fakes(c, [undefined, undefined, EVENT]);
    const r = await runCanary(RUN, f.deps);

    expect(f.published).toHaveLength(1);
    const msg = f.published[0];
    expect(msg.subject).toBe(`OK: "${MARKER}" in eu-west-1`);
    expect(JSON.parse(msg.message)).toMatchObject({ AlarmName: MARKER, NewStateValue: "OK", AWSAccountId: "123456789012", Region: "eu-west-1" });

    expect(r).toEqual({
      stack: "dev",
      instance: "https://dev1.service-now.com",
      topicArn: TOPIC.arn,
      marker: MARKER,
      subject: msg.subject,
      publishedAt: "2030-01-01T00:00:00.400Z",
      messageId: "mid-1",
      outcome: "delivered",
      exitCode: 0,
      timeoutSeconds: 90,
      // Created at second 2 of the clock, published in second 0; seen after the first 500 ms pause.
      latency: { publishToEventCreatedSeconds: 2, publishToSeenMs: POLL_PAUSES_MS[0] },
      event: { sysId: EVENT.sys_id, createdOn: "2030-01-01T00:00:02.000Z", severity: "0", messageKey: EVENT.message_key, state: "Processed" },
      detail: `SNS accepted the message (MessageId mid-1) and ServiceNow recorded it as em_event ${EVENT.sys_id}: the chain delivers`,
      leaves: expect.stringMatching(
        new RegExp(`^one em_event row \\(${EVENT.sys_id}\\) with Clear severity and a unique message key, and no alert .*table cleanup removes old events$`),
      ),
      next: null,
    });
  });

  test("not delivered: SNS's MessageId, no event, the wait used up, and drift as the next step", async () => {
    const c = clock();
    const f = fakes(c, [undefined], async () => "mid-2");
    const r = await runCanary({ ...RUN, timeoutSeconds: 10 }, f.deps);
    expect(r).toMatchObject({ outcome: "not-delivered", exitCode: 7, messageId: "mid-2", event: null, next: "keywire drift --stack dev" });
    expect(r.latency).toEqual({ publishToEventCreatedSeconds: null, publishToSeenMs: null });
    expect(r.detail).toBe(
      `SNS accepted the message (MessageId mid-2) and ServiceNow recorded no event carrying ${MARKER} within 10 s. ` +
        "SNS counts a 4xx answer from the endpoint as delivered and never retries it, so alarms published to this topic are being lost",
    );
    expect(r.leaves).toMatch(/^nothing that ServiceNow recorded; should the event still arrive, one em_event row with Clear severity/);
    // The pauses add up to the wait exactly: the last look is at the deadline.
    expect(c.sleeps.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(c.now()).toBe(T0 + 10_000);
  });

  test("the next step is typed as the canary was: `keywire drift` where keywire is installed, the npm script in keywire's checkout", async () => {
    for (const [invoke, next] of [
      [keywireCommand, "keywire drift --stack acme/keywire/prod"],
      [npmScript, "npm run drift -- --stack acme/keywire/prod"],
    ] as const) {
      const r = await runCanary({ ...RUN, stack: "acme/keywire/prod", timeoutSeconds: 1, invoke }, fakes(clock(), [undefined]).deps);
      expect({ outcome: r.outcome, next: r.next }).toEqual({ outcome: "not-delivered", next });
    }
  });

  test("em_event cannot be read: the run cannot start and nothing is published", async () => {
    const c = clock();
    const f = fakes(c, [new Error("[servicenow] list em_event failed (HTTP 403): insufficient rights")]);
    await expect(runCanary(RUN, f.deps)).rejects.toEqual(
      new CanaryCannotRun(
        "cannot read em_event on https://dev1.service-now.com ([servicenow] list em_event failed (HTTP 403): insufficient rights); the canary needs read access to em_event. Nothing was published",
      ),
    );
    expect(f.published).toEqual([]);
  });

  test("SNS refuses the publish: failed, no MessageId, and nothing left behind", async () => {
    const c = clock();
    const f = fakes(c, [undefined], async () => {
      throw new PublishFailure("SNS refused the publish to arn (AuthorizationErrorException (HTTP 403): not authorized)", false);
    });
    const r = await runCanary(RUN, f.deps);
    expect(r).toMatchObject({ outcome: "failed", exitCode: 1, messageId: null, event: null, next: null, leaves: "nothing: SNS did not take the message" });
    expect(r.detail).toBe("SNS refused the publish to arn (AuthorizationErrorException (HTTP 403): not authorized)");
    // No waiting for an event that cannot come.
    expect(f.finds).toBe(1);
  });

  test("SNS's answer never came: failed, and the report says an event may still be left", async () => {
    const f = fakes(clock(), [undefined], async () => {
      throw new PublishFailure("SNS did not answer", true);
    });
    const r = await runCanary(RUN, f.deps);
    expect(r.outcome).toBe("failed");
    expect(r.leaves).toMatch(/^nothing, unless SNS accepted the message after all; then one em_event row with Clear severity/);
  });

  test("reading em_event fails while waiting: failed, with SNS's MessageId kept", async () => {
    const f = fakes(clock(), [undefined, new Error("[servicenow] list em_event failed: no answer within 30000 ms")], async () => "mid-3");
    const r = await runCanary(RUN, f.deps);
    expect(r).toMatchObject({ outcome: "failed", exitCode: 1, messageId: "mid-3", event: null });
    expect(r.detail).toBe(
      "SNS accepted the message (MessageId mid-3), but reading em_event failed: [servicenow] list em_event failed: no answer within 30000 ms. Whether ServiceNow recorded the event is unknown",
    );
  });

  test("an event already carrying the new marker stops the run before publishing", async () => {
    const f = fakes(clock(), [EVENT]);
    await expect(runCanary(RUN, f.deps)).rejects.toBeInstanceOf(CanaryCannotRun);
    expect(f.published).toEqual([]);
  });

  test("an event the instance gives without a readable sys_created_on: delivered, that latency unknown", async () => {
    const f = fakes(clock(), [undefined, { ...EVENT, sys_created_on: "" }]);
    const r = await runCanary(RUN, f.deps);
    expect(r.outcome).toBe("delivered");
    expect(r.latency.publishToEventCreatedSeconds).toBeNull();
    expect(r.event?.createdOn).toBeNull();
  });
});

describe("waitForEvent", () => {
  test("quick pauses first, then every 5 s, the last one cut to the deadline", async () => {
    const c = clock();
    let calls = 0;
    const r = await waitForEvent(async () => (calls++, undefined), { startedAt: T0, timeoutMs: 20_000, clock: c });
    expect(c.sleeps).toEqual([500, 1000, 1000, 2000, 3000, 5000, 5000, 2500]);
    expect(r).toEqual({ polls: 9 });
    expect(calls).toBe(9);
  });

  test("found on the first look: no pause at all", async () => {
    const c = clock();
    const r = await waitForEvent(async () => EVENT, { startedAt: T0, timeoutMs: 20_000, clock: c });
    expect(r).toEqual({ event: EVENT, seenAt: T0, polls: 1 });
    expect(c.sleeps).toEqual([]);
  });

  test("a deadline already passed: one look, no pause", async () => {
    const c = clock(T0 + 5_000);
    const r = await waitForEvent(async () => undefined, { startedAt: T0, timeoutMs: 1_000, clock: c });
    expect(r).toEqual({ polls: 1 });
    expect(c.sleeps).toEqual([]);
  });

  test("a clock that never moves cannot make it poll forever", async () => {
    const frozen: WaitClock = { now: () => T0, sleep: async () => undefined };
    const r = await waitForEvent(async () => undefined, { startedAt: T0, timeoutMs: 1_000, clock: frozen });
    expect(r).toEqual({ polls: MAX_POLLS });
  });

  test("a failing look ends the wait with its error", async () => {
    await expect(waitForEvent(async () => Promise.reject(new Error("refused")), { startedAt: T0, timeoutMs: 1_000, clock: clock() })).rejects.toThrow(
      "refused",
    );
  });
});

test("glideTimeMs reads the Table API's UTC time and nothing else", () => {
  expect(glideTimeMs("2030-01-01 00:00:02")).toBe(Date.UTC(2030, 0, 1, 0, 0, 2));
  for (const bad of ["", undefined, "2030-01-01T00:00:02Z", "01/01/2030 00:00:02"]) expect(glideTimeMs(bad)).toBeUndefined();
});
