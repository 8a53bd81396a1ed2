import { codeOfProblem, gql } from './api.js';
import { alarmWords } from './alarm-text.js';
import type { ViewContext } from './console.js';
import type { Alarm } from './live.js';
import { succeeded, type Report } from './report.js';

/**
 * Taking an actor that failed for good back into operation. A compartment, a device or a part of
 * the box itself that kept crashing was stopped and is named by an open ACTOR_FAILED alarm; after
 * the cause is repaired, staff take it back here instead of through a GraphQL client.
 */

/** The address of the failed actor an alarm names (`compartment/A07`, `shredder/1`, `registry`), or null. */
export function failedActorOf(alarm: Alarm): string | null {
  return alarm.open && alarm.code === 'ACTOR_FAILED' ? alarm.subject : null;
}

/** The address of the box's alarm list: failed, it can raise no alarm about itself. */
export const ALARM_LIST = 'alarms';

/** Parts failed for good that no open ACTOR_FAILED alarm names: the alarm list itself, or one whose alarm it could not take. */
export function partsWithoutAlarm(live: { failedParts: readonly string[]; alarms: readonly Alarm[] }): string[] {
  const named = new Set(live.alarms.map(failedActorOf).filter((a): a is string => a !== null));
  return live.failedParts.filter((part) => !named.has(part));
}

/** What such a part's failure means and what to do, in the console's language. */
export function partWords(address: string): { what: string; todo: string } {
  const todo = alarmWords('ACTOR_FAILED')!.todo;
  if (address === ALARM_LIST) {
    return {
      what:
        'Die Alarmliste der Box ist wiederholt ausgefallen und wurde angehalten. Alarme, die inzwischen ausgelöst oder beendet werden, ' +
        'sammelt die Box und zeigt sie, sobald die Liste wieder in Betrieb ist; bis dahin zeigt diese Seite den alten Stand und nichts lässt sich quittieren.',
      todo,
    };
  }
  return { what: `Ein Teil der Box (${address}) ist wiederholt ausgefallen und wurde angehalten; die Alarmliste hat dazu keinen Alarm.`, todo };
}

/** Asks staff to confirm, then revives the actor and reports the result or the error in words with its code. */
export function confirmRevive(ctx: ViewContext, address: string, report: (r: Report) => void): void {
  ctx.confirm({
    title: `${address} wieder in Betrieb nehmen?`,
    text: reviveWords(address),
    confirm: 'Wieder in Betrieb nehmen',
    run: async () => {
      try {
        await gql(ctx.client, 'mutation($a: String!) { reviveActor(address: $a) { address kind } }', { a: address });
        report(succeeded(`${address} ist wieder in Betrieb.`));
      } catch (err) {
        report({ text: reviveErrorText(address, err), error: true });
      }
    },
  });
}

/**
 * What reviving does, for the confirmation. A part refused its work while it was stopped (nothing
 * of it happens afterwards); the alarm list instead kept the alarms raised or ended meanwhile
 * (see keepsMailWhileFailed in the box's runtime) and shows them once it runs again.
 */
export function reviveWords(address: string): string {
  const only = 'Nur wieder in Betrieb nehmen, wenn die Ursache behoben ist (siehe Log der Box).';
  if (address === ALARM_LIST) {
    return (
      `Die Alarmliste (${address}) ist nach wiederholten Fehlern gestoppt worden. Wieder in Betrieb genommen, zeigt sie die Alarme, ` +
      `die inzwischen ausgelöst oder beendet wurden: Die Box hat sie gesammelt (bis zu 10 000 Meldungen) und reicht sie in der Reihenfolge nach, in der sie kamen. ` +
      `${only} Fällt sie erneut aus, wird sie wieder gestoppt.`
    );
  }
  return (
    `${address} ist nach wiederholten Fehlern gestoppt worden. Wieder in Betrieb genommen, bearbeitet die Box seine Aufträge wieder ` +
    `und holt nach, was fällig geworden ist. Was es in der Zwischenzeit abgelehnt hat (etwa eine Fachöffnung), geschieht nicht nachträglich und ` +
    `muss neu angestoßen werden; was ihm entgangen ist (Belegung der Fächer, PINs, SMS, Türmeldungen), gleicht die Box danach ab. ` +
    `${only} Fällt es erneut aus, wird es wieder gestoppt.`
  );
}

function reviveErrorText(address: string, err: unknown): string {
  const code = codeOfProblem(err);
  const words =
    code === 'ACTOR_NOT_FAILED'
      ? `${address} ist nicht gestoppt, es gibt nichts wieder in Betrieb zu nehmen (vielleicht ist das schon geschehen).`
      : code === 'ACTOR_NOT_FOUND'
        ? `Einen Teil ${address} gibt es in dieser Box nicht.`
        : `${address} wurde nicht wieder in Betrieb genommen: ${(err as Error).message}`;
  return `${words} (${code})`;
}
