import { useEffect, useState } from 'preact/hooks';
import { BoxFront, describeCompartment, STATES } from '../../shared/box-front.js';
import { gql } from '../api.js';
import type { ViewContext } from '../console.js';
import type { Compartment } from '../live.js';
import { failed, ReportLine, succeeded, useReport } from '../report.js';

/** The live box: the front with every compartment, the selected one's details and actions, the devices. */
export function BoxView({ ctx }: { ctx: ViewContext }) {
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <section aria-labelledby="box-title">
      <h2 id="box-title">Die Box</h2>
      <Summary ctx={ctx} />
      <BoxFront source={ctx.live} onSelect={setSelected} selected={selected} label="Vorderseite der Box: alle Fächer, live" />
      {selected && <CompartmentPanel ctx={ctx} id={selected} />}
      <Devices ctx={ctx} />
    </section>
  );
}

/** Counts by state, updated as compartments change. */
function Summary({ ctx }: { ctx: ViewContext }) {
  const [, tick] = useState(0);
  useEffect(() => {
    let scheduled = false;
    const stops = ctx.live.ids().map((id) =>
      ctx.live.watch(id, () => {
        if (scheduled) return;
        scheduled = true;
        setTimeout(() => {
          scheduled = false;
          tick((n) => n + 1);
        }, 250);
      }),
    );
    return () => stops.forEach((s) => s());
  }, []);
  const counts = new Map<string, number>();
  let doorsOpen = 0;
  for (const id of ctx.live.ids()) {
    const c = ctx.live.get(id)!;
    counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
    if (c.door === 'open') doorsOpen++;
  }
  return (
    <p class="summary">
      {ctx.live.ids().length} Fächer:{' '}
      {[...counts.entries()].map(([state, n]) => `${n} ${STATES[state]?.label ?? state}`).join(', ')}
      {doorsOpen ? `; ${doorsOpen} Tür${doorsOpen > 1 ? 'en' : ''} offen` : ''}
    </p>
  );
}

function CompartmentPanel({ ctx, id }: { ctx: ViewContext; id: string }) {
  const [c, setC] = useState<Compartment | undefined>(() => ctx.live.get(id));
  const [message, setMessage] = useReport();
  useEffect(() => {
    setC(ctx.live.get(id));
    setMessage(null);
    return ctx.live.watch(id, (v) => setC(v as Compartment));
  }, [id]);
  if (!c) return null;
  const run = async (mutation: string, done: string, variables: Record<string, unknown> = {}) => {
    try {
      await gql(ctx.client, mutation, { id, ...variables });
      setMessage(succeeded(done));
    } catch (err) {
      setMessage(failed(err));
    }
  };
  return (
    <section class="panel" aria-labelledby="compartment-title">
      <h3 id="compartment-title">Fach {c.id}</h3>
      <p>{describeCompartment(c)}</p>
      <dl class="facts">
        <dt>Zustand</dt>
        <dd>{STATES[c.state]?.label ?? c.state}</dd>
        <dt>Tür</dt>
        <dd>{c.door === 'open' ? 'offen' : 'zu'}</dd>
        <dt>Schloss</dt>
        <dd>{c.lock === 'released' ? 'entriegelt' : 'verriegelt'}</dd>
        <dt>Störung</dt>
        <dd>{c.fault ?? '—'}</dd>
        <dt>Lage</dt>
        <dd>
          Spalte {c.id.replace(/\d+$/, '')}, Reihe {c.row}
          {c.heightCm ? `, ${c.heightCm} cm` : ''}
          {c.board ? `, Platine ${c.board}` : ''}
        </dd>
      </dl>
      {ctx.canAct && (
        <div class="actions">
          {c.inService && (c.state === 'free' || c.state === 'occupied') && (
            <form
              class="inline"
              onSubmit={(e) => {
                e.preventDefault();
                const reason = ((e.currentTarget as HTMLFormElement).elements.namedItem('reason') as HTMLInputElement).value;
                ctx.confirm({
                  title: `Fach ${c.id} außer Betrieb nehmen?`,
                  text: 'Es wird keinem neuen Vorgang mehr zugeteilt, bis es wieder in Betrieb genommen wird.',
                  confirm: 'Außer Betrieb nehmen',
                  run: () => run('mutation($id: ID!, $reason: String) { setCompartmentService(id: $id, inService: false, reason: $reason) { id } }', `Fach ${c.id} ist außer Betrieb.`, { reason }),
                });
              }}
            >
              <label for="reason">Grund</label>
              <input id="reason" name="reason" maxLength={200} />
              <button type="submit">Außer Betrieb nehmen</button>
            </form>
          )}
          {c.state === 'outOfService' && (
            <button type="button" onClick={() => run('mutation($id: ID!) { setCompartmentService(id: $id, inService: true) { id } }', `Fach ${c.id} ist wieder in Betrieb.`)}>
              Wieder in Betrieb nehmen
            </button>
          )}
          {(c.state === 'fault' || c.fault) && (
            <button
              type="button"
              onClick={() =>
                ctx.confirm({
                  title: `Störung an Fach ${c.id} quittieren?`,
                  text: 'Nur nachdem das Fach geprüft wurde: danach wird es wieder zugeteilt.',
                  confirm: 'Störung quittieren',
                  run: () => run('mutation($id: ID!) { clearCompartmentFault(id: $id) { id } }', `Störung an Fach ${c.id} quittiert.`),
                })
              }
            >
              Störung quittieren
            </button>
          )}
        </div>
      )}
      <ReportLine report={message} />
    </section>
  );
}

interface DevicesData {
  reader: { state: string; available: boolean };
  shredder: { state: string; binFree: number; binCapacity: number; retained: number };
  boards: Array<{ id: string; kind: string; bus: number; address: number; compartments: number; ok: boolean; fault: string | null; faultsRaised: number }>;
  sms: { queued: number; sent: number; failed: number };
}

const READER_TEXT: Record<string, string> = { idle: 'bereit', accepting: 'nimmt Karte an', reading: 'liest', verified: 'geprüft', transferring: 'übergibt an Schredder', ejecting: 'gibt Karte aus', disabled: 'gesperrt', failed: 'ausgefallen' };
const SHREDDER_TEXT: Record<string, string> = { idle: 'bereit', shredding: 'schreddert', jammed: 'Stau', binFull: 'Behälter voll', failed: 'ausgefallen' };

function Devices({ ctx }: { ctx: ViewContext }) {
  const [d, setD] = useState<DevicesData | null>(null);
  const [message, setMessage] = useReport();
  const load = () =>
    gql(ctx.client, '{ devices { reader { state available } shredder { state binFree binCapacity retained } boards { id kind bus address compartments ok fault faultsRaised } sms { queued sent failed } } }').then(
      (data) => setD(data.devices),
      () => {},
    );
  useEffect(() => {
    void load();
    const timer = setInterval(load, 5_000);
    let soon: ReturnType<typeof setTimeout> | undefined;
    const again = () => {
      clearTimeout(soon);
      soon = setTimeout(load, 150);
    };
    const stops = [ctx.live.alarmChanges.listen(again), ctx.live.pickupChanges.listen(again)];
    return () => {
      clearInterval(timer);
      clearTimeout(soon);
      stops.forEach((s) => s());
    };
  }, []);
  if (!d) return null;
  const buses = [...new Set(d.boards.map((b) => b.bus))].sort((a, b) => a - b);
  const used = d.shredder.binCapacity - d.shredder.binFree;
  return (
    <section class="devices" aria-labelledby="devices-title">
      <h3 id="devices-title">Geräte</h3>
      <div class="device-grid">
        <div class="device">
          <h4>Kartenleser</h4>
          <p>
            {d.reader.available ? '✓' : '⚠'} {READER_TEXT[d.reader.state] ?? d.reader.state}
            {d.reader.available ? '' : ' — nimmt keine Karten (Geburtsdatum statt Ausweis)'}
          </p>
        </div>
        <div class="device">
          <h4>Schredder</h4>
          <p>
            {d.shredder.state === 'idle' || d.shredder.state === 'shredding' ? '✓' : '⚠'} {SHREDDER_TEXT[d.shredder.state] ?? d.shredder.state}
          </p>
          <p>
            <label for="bin">Behälter</label>{' '}
            <meter id="bin" min={0} max={d.shredder.binCapacity} high={d.shredder.binCapacity * 0.8} value={used}>
              {used}/{d.shredder.binCapacity}
            </meter>{' '}
            {used} von {d.shredder.binCapacity} Karten{d.shredder.retained ? `, ${d.shredder.retained} einbehalten` : ''}
          </p>
          {ctx.canAct && (
            <form
              class="inline"
              onSubmit={async (e) => {
                e.preventDefault();
                const emptied = ((e.currentTarget as HTMLFormElement).elements.namedItem('emptied') as HTMLInputElement).checked;
                try {
                  await gql(ctx.client, 'mutation($b: Boolean!) { clearShredder(binEmptied: $b) { shredder { state } } }', { b: emptied });
                  setMessage(succeeded('Schredder freigegeben.'));
                  void load();
                } catch (err) {
                  setMessage(failed(err));
                }
              }}
            >
              <input id="emptied" name="emptied" type="checkbox" />
              <label for="emptied">Behälter geleert</label>
              <button type="submit">Schredder freigeben</button>
            </form>
          )}
          <ReportLine report={message} />
        </div>
        <div class="device">
          <h4>SMS-Ausgang</h4>
          <p>
            {d.sms.queued === 0 ? '✓ leer' : `${d.sms.queued} in der Warteschlange`}; {d.sms.sent} gesendet, {d.sms.failed} Fehlversuche
          </p>
        </div>
      </div>
      {buses.length > 0 && (
        <table class="boards">
          <caption>Schlossplatinen je I2C-Bus</caption>
          <thead>
            <tr>
              <th scope="col">Bus</th>
              <th scope="col">Platinen</th>
              <th scope="col">gestört</th>
              <th scope="col">Störungen (gemerkt)</th>
            </tr>
          </thead>
          <tbody>
            {buses.map((bus) => {
              const boards = d.boards.filter((b) => b.bus === bus);
              const broken = boards.filter((b) => !b.ok);
              return (
                <tr key={bus} class={broken.length ? 'bad' : ''}>
                  <th scope="row">i2c-{bus}</th>
                  <td>
                    {boards.length} ({boards.map((b) => `${b.id}@0x${b.address.toString(16)}`).join(', ')})
                  </td>
                  <td>{broken.length ? `⚠ ${broken.map((b) => `${b.id} ${b.fault}`).join(', ')}` : '✓ keine'}</td>
                  <td>{boards.reduce((n, b) => n + b.faultsRaised, 0)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
