/**
 * The routes a key's token may come by (tokenPlan.ts walks them), as the key's inputs
 * name them. Apart from the plan so that validating inputs loads no HTTP client.
 */
export const TOKEN_STRATEGIES = ["auto", "operator", "input_display_value", "display_value"] as const;
export type TokenStrategy = (typeof TOKEN_STRATEGIES)[number];
export type TokenSource = Exclude<TokenStrategy, "auto">;
