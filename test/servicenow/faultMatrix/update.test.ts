/** The fault matrix for update: see cases.ts. */
import { describeMatrix } from "./cases";

describeMatrix("update");
