import { codeOfProblem, gql } from './api.js';
import type { ViewContext } from './console.js';
import type { Alarm } from './live.js';
import { succeeded, type Report } from './report.js';
import { statusText } from './status.js';

/**
 * Lifting a pickup's quarantine. A pickup whose handling kept crashing the box is refused on its
 * own (PICKUP_FAILED) and named by an open PICKUP_FAILED alarm; after the cause is repaired, staff
 * take it back into operation here instead of through a GraphQL client.
 */

/** The address the box-wide PICKUP_FAILED alarm (many pickups at once) names: not a pickup to lift. */
const REGISTRY_SUBJECT = 'registry';

/** The reference of the quarantined pickup an alarm names, or null when the alarm is about something else. */
export function quarantinedReferenceOf(alarm: Alarm): string | null {
  return alarm.open && alarm.code === 'PICKUP_FAILED' && alarm.subject !== REGISTRY_SUBJECT ? alarm.subject : null;
}

/** Whether the open alarms say this pickup is quarantined. */
export function isQuarantined(alarms: readonly Alarm[], reference: string): boolean {
  return alarms.some((a) => quarantinedReferenceOf(a) === reference);
}

/** Asks staff to confirm, then lifts the quarantine and reports the result or the error in words with its code. */
export function confirmLift(ctx: ViewContext, reference: string, report: (r: Report) => void): void {
  ctx.confirm({
    title: `Quarantäne von Vorgang ${reference} aufheben?`,
    text:
      `Der Vorgang wird wieder in Betrieb genommen: die Box bearbeitet ihn wieder, seine zurückgehaltenen Fristen laufen weiter, ` +
      `und sein Fach kann wieder geöffnet werden. Nur aufheben, wenn die Ursache behoben ist (siehe Log der Box). ` +
      `Stürzt die Bearbeitung erneut ab, kommt der Vorgang wieder in Quarantäne.`,
    confirm: 'Quarantäne aufheben',
    run: async () => {
      try {
        const data = await gql(ctx.client, 'mutation($r: String!) { liftPickupQuarantine(reference: $r) { reference status } }', { r: reference });
        const status: string = data.liftPickupQuarantine.status;
        report(succeeded(`Quarantäne aufgehoben: Vorgang ${reference} ist wieder in Betrieb (${statusText(status)}).`));
      } catch (err) {
        report({ text: liftErrorText(reference, err), error: true });
      }
    },
  });
}

function liftErrorText(reference: string, err: unknown): string {
  const code = codeOfProblem(err);
  const words =
    code === 'PICKUP_WRONG_STATE'
      ? `Vorgang ${reference} ist nicht in Quarantäne, es gibt nichts aufzuheben (vielleicht wurde sie schon aufgehoben).`
      : code === 'PICKUP_NOT_FOUND'
        ? `Einen Vorgang ${reference} gibt es nicht.`
        : `Die Quarantäne von Vorgang ${reference} wurde nicht aufgehoben: ${(err as Error).message}`;
  return `${words} (${code})`;
}
