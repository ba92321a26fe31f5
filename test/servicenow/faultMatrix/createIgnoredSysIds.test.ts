/**
 * The fault matrix for create on an instance that makes its own sys_ids: the sys_id a
 * create sends is not the record's, so a create whose answer is lost is found by the
 * fallback look-up (its natural key, made by the deploying user since the attempt began),
 * never made twice. See cases.ts.
 */
import { describeMatrix } from "./cases";

describeMatrix("create", { label: "the instance ignores chosen sys_ids", options: { clientSysIds: "ignored" } });
