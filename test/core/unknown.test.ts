/**
 * keywire writes the engine's unknown value out rather than importing the SDK for it
 * (resources/core/unknown.ts): held to the SDK's own here.
 */
import { runtime } from "@pulumi/pulumi";
import { UNKNOWN, containsUnknown } from "../../resources/core/unknown";

test("keywire's unknown value is the SDK's", () => {
  expect(UNKNOWN).toBe(runtime.unknownValue);
});

test("an unknown value is found at any depth, and nothing else is taken for one", () => {
  expect(containsUnknown({ a: [1, { b: runtime.unknownValue }] })).toBe(true);
  expect(containsUnknown({ a: [1, { b: "04da6b54" }], c: null })).toBe(false);
});
