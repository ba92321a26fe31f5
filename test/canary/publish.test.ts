/**
 * Publishing with the AWS SDK against a stand-in SNS on 127.0.0.1: what the request
 * carries, and that every failure comes back as one plain, redacted line with what to
 * do, never as the SDK's error (which holds the request and the raw response).
 */
import type { ServerResponse } from "node:http";
import { canaryMessage } from "../../scripts/canary/message";
import { PublishFailure, publishFailure, publishMessage } from "../../scripts/canary/publish";
import { parseTopicArn } from "../../scripts/canary/topic";
import { HttpStub, hang, startHttpStub } from "../support/httpStub";

const MARKER = "keywire-delivery-check-canary-0123456789abcdef01234567";
const TOPIC = parseTopicArn("arn:aws:sns:eu-west-1:123456789012:keywire-dev-alarms")!;
const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
const CREDENTIALS = { accessKeyId: "AKIDKEYWIRETEST", secretAccessKey: SECRET };

let stub: HttpStub;
beforeAll(async () => {
  stub = await startHttpStub(hang);
});
afterAll(async () => {
  await stub.stop();
});

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "Content-Type": "text/xml" });
  res.end(body);
}

function snsError(res: ServerResponse, status: number, code: string, message: string): void {
  xml(
    res,
    status,
    `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
  );
}

async function failure(p: Promise<unknown>): Promise<PublishFailure> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PublishFailure);
    return e as PublishFailure;
  }
  throw new Error("the publish succeeded");
}

const msg = canaryMessage(MARKER, new Date(Date.UTC(2030, 0, 1)), TOPIC);
const publish = (timeoutMs?: number) =>
  publishMessage(TOPIC, msg, { endpoint: stub.url, credentials: CREDENTIALS, secrets: [SECRET], ...(timeoutMs ? { timeoutMs } : {}) });

test("a publish: the topic, the alarm as Message and CloudWatch's Subject; resolves to SNS's MessageId", async () => {
  stub.setHandler((_req, res) =>
    xml(
      res,
      200,
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>mid-42</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
    ),
  );
  const before = stub.requests.length;
  await expect(publish()).resolves.toBe("mid-42");
  const sent = stub.requests.slice(before);
  expect(sent).toHaveLength(1);
  const form = new URLSearchParams(sent[0].body);
  expect(Object.fromEntries(form)).toMatchObject({ Action: "Publish", TopicArn: TOPIC.arn, Subject: `OK: "${MARKER}" in eu-west-1` });
  expect(JSON.parse(form.get("Message")!)).toEqual(msg.alarm);
  // Signed for the topic's region.
  expect(sent[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDKEYWIRETEST\/\d{8}\/eu-west-1\/sns\/aws4_request/);
});

test("refused for want of sns:Publish: a hint naming the topic ARN, the secret redacted, nothing of the request kept", async () => {
  // A contrived answer that echoes the secret key, as a misbehaving proxy might.
  stub.setHandler((_req, res) =>
    snsError(
      res,
      403,
      "AuthorizationError",
      `User: arn:aws:sts::123456789012:assumed-role/drift-read/x is not authorized to perform: SNS:Publish (key ${SECRET})`,
    ),
  );
  const f = await failure(publish());
  expect(f.message).toBe(
    `SNS refused the publish to ${TOPIC.arn} (AuthorizationErrorException (HTTP 403): User: arn:aws:sts::123456789012:assumed-role/drift-read/x is not authorized to perform: SNS:Publish (key [REDACTED])); ` +
      "the credentials need sns:Publish on that topic ARN (docs/canary.md has the policy)",
  );
  expect(f.outcomeUnknown).toBe(false);
  expect(Object.keys(f)).toEqual(["outcomeUnknown"]);
  expect(JSON.stringify(f) + String(f.stack)).not.toContain(SECRET);
});

test("no such topic: check the ARN and its region", async () => {
  stub.setHandler((_req, res) => snsError(res, 404, "NotFound", "Topic does not exist"));
  const f = await failure(publish());
  expect(f.message).toBe(
    `SNS has no topic ${TOPIC.arn} (NotFoundException (HTTP 404): Topic does not exist); check --topic-arn or the stack's sns.topicArn output, and the region in it`,
  );
});

test("no answer within the deadline: whether SNS took the message is unknown", async () => {
  stub.setHandler(hang);
  const f = await failure(publish(300));
  expect(f.outcomeUnknown).toBe(true);
  expect(f.message).toMatch(new RegExp(`^SNS did not answer the publish to ${TOPIC.arn} within 0\\.3 s \\(.+\\); whether it accepted the message is unknown`));
});

describe("publishFailure (the SDK's errors, by shape)", () => {
  const rebuild = (e: unknown) => publishFailure(e, TOPIC.arn, 30_000, [SECRET]);

  test("no credentials in the chain", () => {
    const e = Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError", tryNextLink: false });
    expect(rebuild(e).message).toBe(
      `no AWS credentials to publish with (CredentialsProviderError: Could not load credentials from any providers); give the standard chain some (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a role assumed through OIDC in CI) that may sns:Publish to ${TOPIC.arn}`,
    );
  });

  test("a refused connection: the endpoint cannot be reached, and SNS took nothing", () => {
    const f = rebuild(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }));
    expect(f.message).toBe(
      `could not reach SNS to publish to ${TOPIC.arn} (Error (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:9); check the network path to SNS (or AWS_ENDPOINT_URL_SNS) and run the canary again`,
    );
    expect(f.outcomeUnknown).toBe(false);
  });

  test("a server error may have taken the message", () => {
    const f = rebuild(Object.assign(new Error("We encountered an internal error"), { name: "InternalErrorException", $metadata: { httpStatusCode: 500 } }));
    expect(f.message).toBe(`SNS refused the publish to ${TOPIC.arn} (InternalErrorException (HTTP 500): We encountered an internal error)`);
    expect(f.outcomeUnknown).toBe(true);
  });

  test("only the class name, status, code and message are read: a request, a response or odd names never reach the text", () => {
    const e = {
      name: "Weird name with spaces <script>",
      message: `failed with Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=${"a".repeat(64)} and ${SECRET}`,
      code: "lower-case code",
      $metadata: { httpStatusCode: 400 },
      $response: { headers: { authorization: "AWS4-HMAC-SHA256 secret-signature-value" }, body: "raw body" },
    };
    const text = rebuild(e).message;
    expect(text).toMatch(/^SNS refused the publish to .+ \(Error \(HTTP 400\): failed with Authorization: \[REDACTED\]/);
    for (const leak of [SECRET, "secret-signature-value", "raw body", "<script>", "lower-case code", "a".repeat(64)]) expect(text).not.toContain(leak);
    expect(text).toContain("Signature=[REDACTED]");
  });
});
