/**
 * How a person types a keywire command where it runs, for usage lines, help and the
 * next command a message suggests: `keywire drift` wherever keywire is installed, and
 * `npm run drift --` in keywire's checkout, whose npm scripts run the same command.
 */
export type Invocation = (command: string) => string;

export const npmScript: Invocation = (command) => `npm run ${command} --`;
export const keywireCommand: Invocation = (command) => `keywire ${command}`;

/**
 * The invocation the caller used: keywire's own npm script (npm sets the script's name
 * and package in the environment), else the `keywire` command.
 */
export function invocationFor(command: string, env: NodeJS.ProcessEnv): Invocation {
  return env.npm_package_name === "keywire" && env.npm_lifecycle_event === command ? npmScript : keywireCommand;
}
