/**
 * `keywire/aws` needs @pulumi/aws, which keywire lists as an optional peer dependency:
 * a program with no AWS resources does not install it, so Pulumi asks that program
 * for no AWS plugin. `keywire/aws` loads this module before anything that imports
 * @pulumi/aws, so a program that uses the AWS side without it is told what to install
 * instead of getting Node's bare "Cannot find module".
 */
const PEER = "@pulumi/aws";

try {
  require.resolve(PEER);
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw err;
  throw new Error(
    `keywire/aws needs ${PEER}, which is not installed: run \`npm install ${PEER}\` in your program. ` +
      `keywire lists it as an optional peer dependency, so programs with no AWS resources do not install it.`,
    { cause: err },
  );
}

export {};
