/**
 * Event Management's processing of a new event into alerts, after the public documentation:
 * - "Event identifiers": the message key decides whether an event creates a new alert or
 *   updates an existing one; an empty key is made from source, type, node, resource and metric name.
 * - "Event field format for event collection": a Clear event creates no alert and closes the
 *   existing one; every other severity (Critical … OK) creates an alert; a processed event is
 *   `Processed` and names its alert; one without a severity is `Error`.
 * - "Close an alert": a Clear event for an open alert sets it to Closed.
 * The platform processes events in a scheduled job; here it happens as the event is inserted, so
 * a client that reads right after its post already sees the outcome.
 */
import type { Store } from "./store";
import type { GlideRecord } from "./types";
import type { WriteContext } from "./writeContext";

const CLEAR = "0";
/** Alert states that still take updates; a Clear event closes any of them. */
const OPEN_STATES = new Set(["Open", "Reopen", "Flapping"]);
const PROCESSOR: WriteContext = { userName: "system", trusted: false, acceptToken: false };

function openAlert(store: Store, messageKey: string): GlideRecord | undefined {
  for (const a of store.scan("em_alert")) if (a.message_key === messageKey && OPEN_STATES.has(a.state)) return a;
  return undefined;
}

/** Processes a freshly inserted em_event: creates, updates or closes its alert. Returns the event as stored afterwards. */
export function processEvent(store: Store, event: GlideRecord): GlideRecord {
  const alerts = store.schema.get("em_alert")!;
  const events = store.schema.get("em_event")!;
  if (event.severity === "") {
    return store.update(events, event.sys_id, { state: "Error", processing_notes: "The event has no severity" }, PROCESSOR) ?? event;
  }
  const messageKey = event.message_key || `${event.source}${event.type}${event.node}${event.resource}${event.metric_name}`;
  const open = openAlert(store, messageKey);
  const seen = event.time_of_event || event.sys_created_on;
  let alert: GlideRecord | undefined;
  let notes: string;
  if (event.severity === CLEAR) {
    if (open) {
      alert = store.update(alerts, open.sys_id, { state: "Closed", last_remote_time: seen }, PROCESSOR);
      notes = `Closed alert ${open.number}: a Clear event for its message key`;
    } else {
      notes = "Clear event with no open alert for its message key: no alert created";
    }
  } else if (open) {
    alert = store.update(
      alerts,
      open.sys_id,
      { severity: event.severity, description: event.description, additional_info: event.additional_info, last_remote_time: seen },
      PROCESSOR,
    );
    notes = `Updated alert ${open.number}`;
  } else {
    alert = store.insert(
      alerts,
      {
        source: event.source,
        node: event.node,
        type: event.type,
        resource: event.resource,
        metric_name: event.metric_name,
        message_key: messageKey,
        severity: event.severity,
        state: "Open",
        description: event.description,
        additional_info: event.additional_info,
        initial_remote_time: seen,
        last_remote_time: seen,
      },
      PROCESSOR,
    );
    notes = `Created alert ${alert.number}`;
  }
  return (
    store.update(events, event.sys_id, { state: "Processed", message_key: messageKey, alert: alert?.sys_id ?? "", processing_notes: notes }, PROCESSOR) ?? event
  );
}
