import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { formatTime, type ViewContext } from '../console.js';
import { alarmWords } from '../alarm-text.js';
import type { Alarm } from '../live.js';
import { confirmLift, quarantinedReferenceOf } from '../quarantine.js';
import { failed, ReportLine, succeeded, useReport } from '../report.js';
import { confirmRevive, failedActorOf } from '../revive.js';

/** The open alarms, kept current (re-read once subscribed: none raised in between is missed). */
export function useOpenAlarms(ctx: ViewContext): readonly Alarm[] {
  const [alarms, setAlarms] = useState<readonly Alarm[]>(ctx.live.alarms);
  useEffect(() => {
    setAlarms(ctx.live.alarms);
    return ctx.live.alarmChanges.listen(() => setAlarms(ctx.live.alarms));
  }, []);
  return alarms;
}

/**
 * What the alarm means and what to do, in German; below it the box's own text (English, with the
 * particulars), marked as English for screen readers. A code without German words shows the box's text alone.
 */
function AlarmText({ code, text }: { code: string; text: string }) {
  const words = alarmWords(code);
  if (!words) return <p>{text}</p>;
  return (
    <>
      <p class="what">{words.what}</p>
      <p class="todo">
        <strong>Was tun:</strong> {words.todo}
      </p>
      <p class="detail">
        Meldung der Box: <span lang="en">{text}</span>
      </p>
    </>
  );
}

/** Open alarms, live; staff acknowledge them (recorded with their name), lift a quarantined pickup's quarantine and revive a failed part. */
export function AlarmsView({ ctx }: { ctx: ViewContext }) {
  const alarms = useOpenAlarms(ctx);
  const [message, setMessage] = useReport();
  const sorted = [...alarms].sort((a, b) => (a.severity === b.severity ? b.raisedAt.localeCompare(a.raisedAt) : a.severity === 'critical' ? -1 : 1));
  return (
    <section aria-labelledby="alarms-title">
      <h2 id="alarms-title">Offene Alarme</h2>
      <ReportLine report={message} />
      {sorted.length === 0 ? (
        <p class="empty">✓ Keine offenen Alarme.</p>
      ) : (
        <ul class="alarms">
          {sorted.map((a) => {
            const lift = quarantinedReferenceOf(a);
            const revive = failedActorOf(a);
            return (
              <li key={a.id} class={`alarm alarm-${a.severity}`} data-alarm={a.id} data-code={a.code}>
                <p>
                  <span class="severity">{a.severity === 'critical' ? '⚠ kritisch' : 'ⓘ Hinweis'}</span> <strong>{a.code}</strong> — {a.subject}
                </p>
                <AlarmText code={a.code} text={a.text} />
                <p class="when">seit {formatTime(a.raisedAt)}</p>
                {ctx.canAct && (
                  <div class="actions">
                    <button
                      type="button"
                      onClick={async () => {
                        try {
                          await gql(ctx.client, 'mutation($id: ID!) { acknowledgeAlarm(id: $id) { id acknowledgedBy } }', { id: a.id });
                          setMessage(succeeded(`Alarm ${a.code} (${a.subject}) quittiert.`));
                        } catch (err) {
                          setMessage(failed(err));
                        }
                      }}
                    >
                      Quittieren: {a.code} {a.subject}
                    </button>
                    {lift && (
                      <button type="button" onClick={() => confirmLift(ctx, lift, setMessage)}>
                        Quarantäne aufheben: {lift}
                      </button>
                    )}
                    {revive && (
                      <button type="button" onClick={() => confirmRevive(ctx, revive, setMessage)}>
                        Wieder in Betrieb nehmen: {revive}
                      </button>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
