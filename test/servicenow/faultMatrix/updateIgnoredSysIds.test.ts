/**
 * The fault matrix for update on an instance that makes its own sys_ids: the record the
 * update acts on is the one the create's answer named. See cases.ts.
 */
import { describeMatrix } from "./cases";

describeMatrix("update", { label: "the instance ignores chosen sys_ids", options: { clientSysIds: "ignored" } });
