/**
 * The part of js-yaml (a devDependency; @pulumi/pulumi depends on it too) that the
 * workflow tests use. js-yaml ships no types and @types/js-yaml is not installed.
 */
declare module "js-yaml" {
  /** Parses one YAML document (YAML 1.2 core schema: `on` stays a string). */
  export function load(text: string, options?: { filename?: string }): unknown;
}
