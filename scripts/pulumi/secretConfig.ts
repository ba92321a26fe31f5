/**
 * `pulumi config set --secret <key>` with the value on stdin. A value in argv is
 * readable by every local user while the command runs (ps, /proc/<pid>/cmdline) and
 * can land in process accounting; given no value, pulumi reads it from stdin when
 * stdin is not a terminal.
 */
import { valueProblem } from "./configLimits";

export interface CommandWithInput {
  /** The arguments: the key, never the value. */
  args: string[];
  /** What the command reads on stdin: the value. */
  input: string;
}

export function setSecretConfigCommand(key: string, value: string): CommandWithInput {
  if (value === "") throw new Error(`the secret for ${key} is empty: pulumi would store an empty value; give the value to set`);
  // Stored, a longer value would reach every later run in one environment variable (configLimits.ts).
  const tooLong = valueProblem(key, value, "Nothing was stored; give the intended value.");
  if (tooLong) throw new Error(tooLong);
  // pulumi removes one trailing line break from stdin, so such a value would be stored changed.
  if (/[\r\n]$/.test(value))
    throw new Error(`the secret for ${key} ends in a line break, which pulumi strips from stdin (value not shown); remove it and set the value again`);
  return { args: ["config", "set", "--secret", key], input: value };
}
