import { useEffect, useState } from 'preact/hooks';
import { BoxError, gql, gqlPartial } from '../api.js';
import { formatTime, type ViewContext } from '../console.js';
import type { Alarm } from '../live.js';
import { confirmLift, isQuarantined } from '../quarantine.js';
import { failed, ReportLine, succeeded, useReport } from '../report.js';
import { statusText } from '../status.js';
import { useOpenAlarms } from './alarms.js';

/**
 * What must come out of the box (expired or cancelled pickups still in a compartment; locked ones
 * need a new PIN or a retrieval), and any pickup by its reference: reissue a PIN, cancel, retrieve.
 * A quarantined pickup (an open PICKUP_FAILED alarm names it) is refused by the box whatever staff
 * ask, so it is offered only the lift of its quarantine.
 */

interface Pickup {
  reference: string;
  status: string;
  compartmentId: string | null;
  documentKind: string;
  failedAttempts: number;
  readyAt: string | null;
  expiresAt: string | null;
  updatedAt: string;
  pinSms: string;
}

const FIELDS = 'reference status compartmentId documentKind failedAttempts readyAt expiresAt updatedAt pinSms';

export function WorklistView({ ctx }: { ctx: ViewContext }) {
  const [items, setItems] = useState<Pickup[] | null>(null);
  const [message, setMessage] = useReport();
  // The open alarms say which pickups are quarantined.
  const alarms = useOpenAlarms(ctx);
  /** Why the list came back in part (a stored value the box cannot show), beside any action's result. */
  const [unreadable, setUnreadable] = useState<BoxError | null>(null);

  const load = async () => {
    const all: Pickup[] = [];
    let after: string | null = null;
    let firstProblem: BoxError | null = null;
    for (let page = 0; page < 20; page++) {
      // One damaged stored record masks its own field, not the whole list.
      const { data, problem }: { data: any; problem: BoxError | null } = await gqlPartial(ctx.client, `query($after: String) { pickups(status: [EXPIRED, CANCELLED, LOCKED], first: 100, after: $after) { edges { node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`, { after });
      if (!data.pickups) throw problem ?? new BoxError('INTERNAL', 'Die Box hat keine Liste geschickt.');
      firstProblem ??= problem;
      all.push(...(data.pickups.edges as Array<{ node: Pickup }>).map((e) => e.node));
      if (!data.pickups.pageInfo.hasNextPage) break;
      after = data.pickups.pageInfo.endCursor;
    }
    setItems(all.filter((p) => p.compartmentId !== null));
    setUnreadable(firstProblem);
  };

  useEffect(() => {
    void load().catch((e) => setMessage(failed(e)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = ctx.live.pickupChanges.listen(() => {
      clearTimeout(timer);
      timer = setTimeout(() => void load().catch(() => {}), 100);
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, []);

  const act = (p: Pickup, action: 'retrievePickup' | 'reissuePin' | 'cancelPickup') => {
    const run = async () => {
      try {
        const data = await gql(ctx.client, `mutation($r: String!) { ${action}(reference: $r) { ${FIELDS} } }`, { r: p.reference });
        const after = data[action] as Pickup;
        setMessage(
          succeeded(
            action === 'retrievePickup'
              ? `Fach ${after.compartmentId ?? p.compartmentId} ist offen: Dokument ${p.reference} entnehmen und Tür schließen.`
              : action === 'reissuePin'
                ? `Neue PIN für ${p.reference} wird per SMS gesendet.`
                : `Vorgang ${p.reference} ist storniert.`,
          ),
        );
        await load();
      } catch (err) {
        setMessage(failed(err));
      }
    };
    if (action === 'retrievePickup') {
      ctx.confirm({ title: `Fach ${p.compartmentId} öffnen?`, text: `Das Fach ${p.compartmentId} wird entriegelt, um Vorgang ${p.reference} zu entnehmen.`, confirm: 'Fach öffnen', run });
    } else if (action === 'cancelPickup') {
      ctx.confirm({ title: `Vorgang ${p.reference} stornieren?`, text: 'Die PIN wird ungültig; liegt das Dokument in der Box, kommt es auf die Rückholliste.', confirm: 'Stornieren', run });
    } else void run();
  };
  const lift = (p: Pickup) =>
    confirmLift(ctx, p.reference, (report) => {
      setMessage(report);
      void load().catch(() => {});
    });

  return (
    <section aria-labelledby="worklist-title">
      <h2 id="worklist-title">Rückholung</h2>
      <p>Dokumente, die aus der Box zurück an den Schalter müssen (Frist abgelaufen, storniert) und gesperrte Vorgänge.</p>
      <ReportLine report={message}>
        {unreadable && (
          <p class="error" data-testid="worklist-unreadable">
            Nicht alle Angaben der Liste sind lesbar (gespeicherter Datensatz beschädigt?): {unreadable.message} ({unreadable.code})
          </p>
        )}
      </ReportLine>
      {items === null ? (
        <p>Lade …</p>
      ) : items.length === 0 ? (
        <p class="empty" data-testid="worklist-empty">
          ✓ Nichts zurückzuholen.
        </p>
      ) : (
        <table class="worklist">
          <caption class="visually-hidden">Rückholliste</caption>
          <thead>
            <tr>
              <th scope="col">Vorgang</th>
              <th scope="col">Status</th>
              <th scope="col">Fach (wo)</th>
              <th scope="col">seit</th>
              {ctx.canAct && <th scope="col">Aktion</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((p) => {
              const c = p.compartmentId ? ctx.live.get(p.compartmentId) : undefined;
              return (
                <tr key={p.reference} data-reference={p.reference}>
                  <th scope="row">{p.reference}</th>
                  <td>{statusText(p.status)}</td>
                  <td>
                    {p.compartmentId}
                    {c ? ` (Spalte ${p.compartmentId!.replace(/\d+$/, '')}, Reihe ${c.row}${c.heightCm ? `, ${c.heightCm} cm` : ''})` : ''}
                  </td>
                  <td>{formatTime(p.updatedAt)}</td>
                  {ctx.canAct && isQuarantined(alarms, p.reference) ? (
                    <td class="actions">
                      <span>in Quarantäne (PICKUP_FAILED)</span>
                      <button type="button" onClick={() => lift(p)}>
                        Quarantäne aufheben: {p.reference}
                      </button>
                    </td>
                  ) : ctx.canAct && (
                    <td class="actions">
                      {c?.door === 'open' || c?.state === 'unlocking' ? (
                        <span>Fach offen — entnehmen und Tür schließen</span>
                      ) : (
                        <button type="button" onClick={() => act(p, 'retrievePickup')}>
                          Entnehmen {p.reference}
                        </button>
                      )}
                      {p.status === 'LOCKED' && (
                        <button type="button" onClick={() => act(p, 'reissuePin')}>
                          Neue PIN {p.reference}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <LookUp ctx={ctx} alarms={alarms} onAct={act} onLift={lift} />
    </section>
  );
}

interface LookUpProps {
  ctx: ViewContext;
  alarms: readonly Alarm[];
  onAct: (p: Pickup, action: 'retrievePickup' | 'reissuePin' | 'cancelPickup') => void;
  onLift: (p: Pickup) => void;
}

function LookUp({ ctx, alarms, onAct, onLift }: LookUpProps) {
  const [found, setFound] = useState<Pickup | null | undefined>(undefined);
  const [asked, setAsked] = useState('');
  // Why the box did not answer in full: a pickup is still shown when one of its stored values is
  // unreadable (a damaged record, as with a quarantined pickup); its field is just left out.
  const [problem, setProblem] = useState<BoxError | null>(null);
  const refresh = async (reference: string) => {
    try {
      const { data, problem } = await gqlPartial(ctx.client, `query($r: String!) { pickup(reference: $r) { ${FIELDS} } }`, { r: reference });
      setFound(data.pickup);
      setProblem(problem);
    } catch (err) {
      setFound(null);
      setProblem(err instanceof BoxError ? err : new BoxError('INTERNAL', (err as Error).message));
    }
  };
  useEffect(() => {
    if (!found) return;
    return ctx.live.pickupChanges.listen((p) => void (p.reference === found.reference && refresh(found.reference)));
  }, [found?.reference]);
  return (
    <section aria-labelledby="lookup-title" class="lookup">
      <h3 id="lookup-title">Vorgang suchen</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const value = ((e.currentTarget as HTMLFormElement).elements.namedItem('lookup') as HTMLInputElement).value.trim();
          setAsked(value);
          if (value) void refresh(value);
        }}
      >
        <label for="lookup">Vorgangsnummer</label>
        <input id="lookup" name="lookup" autocomplete="off" maxLength={40} />
        <button type="submit">Suchen</button>
      </form>
      <div role="status" aria-live="polite">
        {found === null && (
          <p class="error">
            Kein Vorgang „{asked}“{problem ? `: ${problem.message} (${problem.code})` : '.'}
          </p>
        )}
        {found && (
          <div class="pickup-card" data-reference={found.reference}>
            <p>
              <strong>{found.reference}</strong>: {statusText(found.status)}
              {found.compartmentId ? `, Fach ${found.compartmentId}` : ''}, Fehlversuche {found.failedAttempts}
              {found.expiresAt ? `, Frist bis ${formatTime(found.expiresAt)}` : ''}
            </p>
            {isQuarantined(alarms, found.reference) && (
              <p class="quarantine">
                ⚠ In Quarantäne (PICKUP_FAILED): die Box lehnt diesen Vorgang ab, bis die Quarantäne aufgehoben ist
                {found.compartmentId ? `; Fach ${found.compartmentId} bleibt so lange verschlossen.` : '.'}
              </p>
            )}
            {problem && (
              <p class="error">
                Nicht alle Angaben sind lesbar (gespeicherter Datensatz beschädigt?): {problem.message} ({problem.code})
              </p>
            )}
            {ctx.canAct && isQuarantined(alarms, found.reference) ? (
              <div class="actions">
                <button type="button" onClick={() => onLift(found)}>
                  Quarantäne aufheben
                </button>
              </div>
            ) : ctx.canAct && (
              <div class="actions">
                {(found.status === 'READY' || found.status === 'LOCKED') && (
                  <button type="button" onClick={() => onAct(found, 'reissuePin')}>
                    Neue PIN senden
                  </button>
                )}
                {['READY', 'LOCKED', 'EXPIRED', 'CANCELLED'].includes(found.status) && found.compartmentId && (
                  <button type="button" onClick={() => onAct(found, 'retrievePickup')}>
                    Entnehmen
                  </button>
                )}
                {['REGISTERED', 'READY', 'LOCKED', 'EXPIRED'].includes(found.status) && (
                  <button type="button" onClick={() => onAct(found, 'cancelPickup')}>
                    Stornieren
                  </button>
                )}
              </div>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
