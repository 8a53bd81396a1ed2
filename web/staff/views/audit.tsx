import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.js';
import { formatTime, type ViewContext } from '../console.js';

/**
 * The audit log, newest first, with filters, the hash chain's verification and the head as an
 * anchor to keep off the box. Details are shown without anything that could identify a person
 * (document numbers of destroyed old IDs are masked here, as in every view of the console).
 */

interface Entry {
  seq: number;
  at: string;
  action: string;
  actor: string | null;
  by: string;
  subject: string | null;
  detailJson: string | null;
}

interface Chain {
  headSeq: number;
  anchor: string;
  verified: boolean;
  checkedRecords: number;
  brokenAtSeq: number | null;
  problem: string | null;
  checkedAt: string;
}

const PERSONAL = /document|phone|birth|pin|name|mrz/i;

/** Detail JSON with personal fields masked. */
export function safeDetail(json: string | null): string {
  if (!json) return '';
  try {
    const detail = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(detail)
      .map(([k, v]) => `${k}: ${PERSONAL.test(k) ? '•••' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(', ');
  } catch {
    return '';
  }
}

const PAGE = 50;

export function AuditView({ ctx }: { ctx: ViewContext }) {
  const [filter, setFilter] = useState({ action: '', subject: '', actor: '' });
  const [entries, setEntries] = useState<Entry[]>([]);
  const [more, setMore] = useState(false);
  const [chain, setChain] = useState<Chain | null>(null);

  const load = async (before: number | null) => {
    const data = await gql(
      ctx.client,
      'query($a: String, $s: String, $w: String, $b: Int, $n: Int) { auditEntries(action: $a, subject: $s, actor: $w, beforeSeq: $b, limit: $n) { seq at action actor by subject detailJson } }',
      { a: filter.action || null, s: filter.subject || null, w: filter.actor || null, b: before, n: PAGE },
    );
    const page = data.auditEntries as Entry[];
    setEntries((old) => (before === null ? page : [...old, ...page]));
    setMore(page.length === PAGE);
  };
  const checkChain = () => gql(ctx.client, '{ auditChain { headSeq anchor verified checkedRecords brokenAtSeq problem checkedAt } }').then((d) => setChain(d.auditChain), () => {});

  useEffect(() => {
    void load(null).catch(() => {});
  }, [filter]);
  useEffect(() => {
    void checkChain();
  }, []);

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Protokoll</h2>
      <div class={`chain ${chain ? (chain.verified ? 'ok' : 'bad') : ''}`} role="status" aria-live="polite">
        {chain ? (
          chain.verified ? (
            <p>
              ✓ Hash-Kette geprüft: {chain.checkedRecords} Einträge lückenlos und unverändert ({formatTime(chain.checkedAt)}).
            </p>
          ) : (
            <p>
              ✗ Hash-Kette gebrochen bei Eintrag {chain.brokenAtSeq} ({chain.problem}). Bitte mit <code>npm run audit:verify</code> prüfen.
            </p>
          )
        ) : (
          <p>Prüfe die Hash-Kette …</p>
        )}
        {chain && (
          <p>
            Letzter Anker (außerhalb der Box aufbewahren): <code class="anchor">{chain.anchor}</code>{' '}
            <button type="button" onClick={() => void checkChain()}>
              Erneut prüfen
            </button>
          </p>
        )}
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = e.currentTarget as HTMLFormElement;
          const value = (name: string) => (f.elements.namedItem(name) as HTMLInputElement).value.trim();
          setFilter({ action: value('f-action'), subject: value('f-subject'), actor: value('f-actor') });
        }}
      >
        <div>
          <label for="f-action">Aktion (Anfang, z. B. pickup. oder door.opened)</label>
          <input id="f-action" name="f-action" list="actions" maxLength={80} />
          <datalist id="actions">
            {['pickup.', 'door.', 'unlock.', 'auth.', 'alarm.', 'compartment.', 'oldId.', 'pin.', 'session.', 'shredder.'].map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div>
          <label for="f-subject">Betreff (Fach oder Vorgang)</label>
          <input id="f-subject" name="f-subject" maxLength={80} />
        </div>
        <div>
          <label for="f-actor">Veranlasst von</label>
          <input id="f-actor" name="f-actor" maxLength={80} />
        </div>
        <button type="submit">Filtern</button>
      </form>
      <table class="audit">
        <caption class="visually-hidden">Protokolleinträge, neueste zuerst</caption>
        <thead>
          <tr>
            <th scope="col">Nr.</th>
            <th scope="col">Zeit</th>
            <th scope="col">Aktion</th>
            <th scope="col">Betreff</th>
            <th scope="col">veranlasst von</th>
            <th scope="col">Einzelheiten</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq} data-seq={e.seq} data-action={e.action}>
              <td>{e.seq}</td>
              <td>{formatTime(e.at)}</td>
              <td>{e.action}</td>
              <td>{e.subject ?? ''}</td>
              <td class="actor">{e.actor ?? e.by}</td>
              <td>{safeDetail(e.detailJson)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 && <p class="empty">Keine Einträge zu diesem Filter.</p>}
      {more && (
        <button type="button" onClick={() => void load(entries.at(-1)!.seq)}>
          Ältere Einträge
        </button>
      )}
    </section>
  );
}
