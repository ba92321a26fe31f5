/**
 * The options a resource is registered with, read under Pulumi's mocks. Marking
 * `additionalSecretOutputs` secret is the engine's work, which mocks do not do, so a
 * test of what the state keeps secret reads the option the engine would act on.
 */
import * as pulumi from "@pulumi/pulumi";

export async function registrationOptions(make: (opts: pulumi.CustomResourceOptions) => pulumi.CustomResource): Promise<pulumi.CustomResourceOptions> {
  await pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => ({ id: `${args.name}-id`, state: args.inputs as Record<string, unknown> }),
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs as Record<string, unknown>,
    },
    "keywire",
    "test",
    false,
  );
  let seen: pulumi.ResourceOptions | undefined;
  const resource = make({
    transformations: [
      (args) => {
        seen = args.opts;
        return undefined;
      },
    ],
  });
  // Let the registration finish, so nothing is left running after the test.
  await new Promise<void>((resolve) => resource.urn.apply(() => resolve()));
  if (!seen) throw new Error("the resource was registered without calling its transformations");
  return seen as pulumi.CustomResourceOptions;
}
