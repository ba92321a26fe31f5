/** The fault matrix for create: see cases.ts. */
import { describeMatrix } from "./cases";

describeMatrix("create");
