/** `npm run canary`'s command line and its topic ARNs. */
import { CanaryUsageError, DEFAULT_TIMEOUT_SECONDS, HELP, MAX_TIMEOUT_SECONDS, parseCanaryArgs } from "../../scripts/canary/args";
import { TopicUnknownError, parseTopicArn, topicFromOutputs } from "../../scripts/canary/topic";

const ARN = "arn:aws:sns:eu-west-1:123456789012:keywire-dev-alarms";

function usageError(argv: string[]): string {
  try {
    parseCanaryArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CanaryUsageError);
    const message = (e as Error).message;
    // One line, always.
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

describe("parseCanaryArgs", () => {
  test("--stack alone: the default wait and no report files", () => {
    expect(parseCanaryArgs(["--stack", "dev"])).toEqual({ help: false, args: { stack: "dev", timeoutSeconds: DEFAULT_TIMEOUT_SECONDS } });
    expect(DEFAULT_TIMEOUT_SECONDS).toBe(90);
  });

  test("every option", () => {
    const argv = ["--stack", "acme/keywire/prod", "--topic-arn", ARN, "--timeout-seconds", "30", "--json", "c.json", "--markdown", "c.md", "--summary", "s.md"];
    expect(parseCanaryArgs(argv)).toEqual({
      help: false,
      args: { stack: "acme/keywire/prod", topicArn: ARN, timeoutSeconds: 30, json: "c.json", markdown: "c.md", summary: "s.md" },
    });
  });

  test("--help and -h, whatever else is given", () => {
    expect(parseCanaryArgs(["--help"])).toEqual({ help: true });
    expect(parseCanaryArgs(["-h", "--stack", "dev"])).toEqual({ help: true });
  });

  test("the help names the permissions, the exit codes and what the run leaves", () => {
    expect(HELP).toContain("sns:Publish on that topic only");
    expect(HELP).toContain("read access to em_event");
    expect(HELP).toMatch(/Exit codes: 0 delivered; 7 NOT delivered .*npm run drift -- --stack <stack>/s);
    expect(HELP).toContain("one em_event row with Clear severity and a unique message key");
  });

  test("the wait is bounded: 1 to 900 whole seconds", () => {
    expect(parseCanaryArgs(["--stack", "dev", "--timeout-seconds", "1"])).toMatchObject({ args: { timeoutSeconds: 1 } });
    expect(parseCanaryArgs(["--stack", "dev", "--timeout-seconds", String(MAX_TIMEOUT_SECONDS)])).toMatchObject({ args: { timeoutSeconds: 900 } });
    for (const bad of ["0", "901", "1.5", "ten", "", "1e3"]) {
      expect(usageError(["--stack", "dev", "--timeout-seconds", bad])).toBe("--timeout-seconds takes a whole number of seconds from 1 to 900 (default 90)");
    }
    expect(usageError(["--stack", "dev", "--timeout-seconds=-3"])).toBe("--timeout-seconds takes a whole number of seconds from 1 to 900 (default 90)");
    // Without `=`, a value starting with a dash reads as the next option.
    expect(usageError(["--stack", "dev", "--timeout-seconds", "-3"])).toMatch(/^Option '--timeout-seconds' argument is ambiguous\..*; usage: npm run canary/);
  });

  test("what cannot run: no stack, a stack name that reads as a flag, an unknown option, a bad ARN, an empty file name", () => {
    expect(usageError([])).toMatch(/^--stack <stack> is required; usage: npm run canary -- --stack <stack> /);
    expect(usageError(["--stack=-x"])).toMatch(/^--stack "-x" is not a stack name/);
    expect(usageError(["--stack", "dev", "--bogus"])).toMatch(/^Unknown option '--bogus'.*; usage: npm run canary/);
    expect(usageError(["--stack", "dev", "extra"])).toMatch(/extra.*; usage: npm run canary/);
    expect(usageError(["--stack", "dev", "--topic-arn", "keywire-dev-alarms"])).toBe(
      '--topic-arn "keywire-dev-alarms" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)',
    );
    expect(usageError(["--stack", "dev", "--json", ""])).toBe("--json needs a file name");
  });
});

describe("topics", () => {
  test("an ARN gives its partition, region, account and name", () => {
    expect(parseTopicArn(ARN)).toEqual({ arn: ARN, partition: "aws", region: "eu-west-1", accountId: "123456789012", name: "keywire-dev-alarms" });
    expect(parseTopicArn("arn:aws-us-gov:sns:us-gov-west-1:123456789012:t")).toMatchObject({ partition: "aws-us-gov", region: "us-gov-west-1" });
  });

  test("not a standard topic ARN: a queue, a FIFO topic (SNS delivers those to SQS only), a subscription, text", () => {
    for (const bad of ["arn:aws:sqs:eu-west-1:123456789012:q", `${ARN}.fifo`, `${ARN}:0f0e0d0c-1111-2222-3333-444455556666`, "alarms", ""]) {
      expect(parseTopicArn(bad)).toBeUndefined();
    }
  });

  test("from the stack's outputs: sns.topicArn", () => {
    expect(topicFromOutputs({ sns: { topicArn: ARN, subscriptionArn: `${ARN}:abc` }, verified: true }, "dev")).toMatchObject({ arn: ARN, region: "eu-west-1" });
  });

  test("a stack without SNS, or without the output: one line saying to pass --topic-arn", () => {
    const message = (outputs: Record<string, unknown>): string => {
      try {
        topicFromOutputs(outputs, "local");
      } catch (e) {
        expect(e).toBeInstanceOf(TopicUnknownError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(message({ sns: { enabled: false } })).toBe(
      "stack local has no SNS topic (keywire:sns.enabled is false, its sns output is { enabled: false }); pass --topic-arn <arn> of the topic whose delivery to check",
    );
    expect(message({})).toBe(
      "stack local has no sns.topicArn output (is it deployed? run pulumi up first); or pass --topic-arn <arn> of the topic whose delivery to check",
    );
    expect(message({ sns: { topicArn: "not-an-arn" } })).toMatch(/^stack local's sns.topicArn output is not an SNS topic ARN; pass --topic-arn/);
  });
});
