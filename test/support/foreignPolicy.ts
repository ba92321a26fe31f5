/**
 * What an instance admin might add beside keywire: a POST-only access policy on the Event
 * Management API, admitting Basic auth only. It is more specific than keywire's policy for
 * that API, so it refuses keywire's key there while the Table API still accepts it.
 */
import type { RunningEmulator } from "../../emulator/servicenow";

const FOREIGN_EVENT_POLICY = "Events: POST from the monitoring team";

/** Adds the policy and its Basic-auth mapping; returns their sys_ids. */
export function addForeignEventPolicy(emu: RunningEmulator): { policy: string; mapping: string } {
  const basic = emu.store.query("std_http_auth", (r) => r.type === "basic_auth")[0];
  const policy = emu.store.insert("sys_api_access_policy", {
    name: FOREIGN_EVENT_POLICY,
    active: "true",
    api_path: "sn_em_connector/em",
    http_method: "POST",
    apply_all_methods: "false",
    apply_all_resources: "true",
    apply_all_versions: "true",
  });
  const mapping = emu.store.insert("sys_auth_profile_mapping", { api_access_policy: policy.sys_id, inbound_auth_profile: basic.sys_id });
  return { policy: policy.sys_id, mapping: mapping.sys_id };
}
