/** The fault matrix for delete: see cases.ts. */
import { describeMatrix } from "./cases";

describeMatrix("delete");
