/**
 * The fault matrix for delete on an instance that makes its own sys_ids: the record the
 * delete acts on is the one the create's answer named. See cases.ts.
 */
import { describeMatrix } from "./cases";

describeMatrix("delete", { label: "the instance ignores chosen sys_ids", options: { clientSysIds: "ignored" } });
