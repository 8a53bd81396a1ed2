import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { formatTime, type ViewContext } from '../console.js';
import { alarmWords, byUrgency, severityWords } from '../alarm-text.js';
import type { Alarm } from '../live.js';
import { confirmLift, quarantinedReferenceOf } from '../quarantine.js';
import { failed, ReportLine, succeeded, useReport, type Report } from '../report.js';
import { confirmRevive, failedActorOf, partsWithoutAlarm, partWords } from '../revive.js';

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
      <Advice {...words} />
      <p class="detail">
        Meldung der Box: <span lang="en">{text}</span>
      </p>
    </>
  );
}

/** What an alarm means and what staff do about it. */
function Advice({ what, todo }: { what: string; todo: string }) {
  return (
    <>
      <p class="what">{what}</p>
      <p class="todo">
        <strong>Was tun:</strong> {todo}
      </p>
    </>
  );
}

/** The parts failed for good that no open alarm names (the alarm list itself), kept current. */
function useUnnamedParts(ctx: ViewContext, alarms: readonly Alarm[]): string[] {
  const [parts, setParts] = useState<readonly string[]>(ctx.live.failedParts);
  useEffect(() => {
    setParts(ctx.live.failedParts);
    return ctx.live.partsChanged.listen(setParts);
  }, []);
  return partsWithoutAlarm({ failedParts: parts, alarms });
}

/**
 * A part failed for good that no alarm names: shown as a critical alarm would be (the alarm list
 * cannot raise one about itself), with the way to take it back into operation.
 */
function UnnamedPart({ ctx, address, report }: { ctx: ViewContext; address: string; report: (r: Report) => void }) {
  return (
    <li class="alarm alarm-critical" data-code="ACTOR_FAILED" data-part={address}>
      <p>
        <span class="severity">{severityWords('critical')}</span> <strong>ACTOR_FAILED</strong> — {address}
      </p>
      <Advice {...partWords(address)} />
      {ctx.canAct && (
        <div class="actions">
          <button type="button" onClick={() => confirmRevive(ctx, address, report)}>
            Wieder in Betrieb nehmen: {address}
          </button>
        </div>
      )}
    </li>
  );
}

/** Open alarms, live; staff acknowledge them (recorded with their name), lift a quarantined pickup's quarantine and revive a failed part. */
export function AlarmsView({ ctx }: { ctx: ViewContext }) {
  const alarms = useOpenAlarms(ctx);
  const unnamed = useUnnamedParts(ctx, alarms);
  const [message, setMessage] = useReport();
  const reported = (r: Report) => {
    setMessage(r);
    // A part revived from here may raise no alarm that would make the console read the parts again.
    void ctx.live.refreshParts().catch(() => {});
  };
  const sorted = byUrgency(alarms);
  return (
    <section aria-labelledby="alarms-title">
      <h2 id="alarms-title">Offene Alarme</h2>
      <ReportLine report={message} />
      {unnamed.length > 0 && (
        <ul class="alarms" aria-label="Ausgefallene Teile ohne Alarm">
          {unnamed.map((address) => (
            <UnnamedPart key={address} ctx={ctx} address={address} report={reported} />
          ))}
        </ul>
      )}
      {sorted.length === 0 ? (
        unnamed.length === 0 && <p class="empty">✓ Keine offenen Alarme.</p>
      ) : (
        <ul class="alarms">
          {sorted.map((a) => {
            const lift = quarantinedReferenceOf(a);
            const revive = failedActorOf(a);
            return (
              <li key={a.id} class={`alarm alarm-${a.severity}`} data-alarm={a.id} data-code={a.code}>
                <p>
                  <span class="severity">{severityWords(a.severity)}</span> <strong>{a.code}</strong> — {a.subject}
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
