/** Who is writing and with what privileges: given to the store by every caller that writes. */
export interface WriteContext {
  /** user_name recorded in sys_created_by / sys_updated_by */
  userName: string;
  /** Out-of-band writes (tests, seed): system and read-only fields may be set. */
  trusted: boolean;
  /** A token supplied on insert is kept (the input_display_value read-back variant). */
  acceptToken: boolean;
}
