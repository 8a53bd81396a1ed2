import { useEffect, useRef, useState } from 'preact/hooks';
import { BoxFront } from '../../shared/box-front.js';
import type { ErrorCode } from '../../shared/error-code.js';
import { codeOfProblem, gql, problemText } from '../api.js';
import type { ViewContext } from '../console.js';

/**
 * Loading at the counter. A keyboard-wedge scanner types the reference and Enter into the focused
 * field (or staff types it). The box chooses and opens a compartment; the page shows which one
 * and where, then follows the door: open → closed → READY → PIN SMS sent.
 */

type Step = 'opening' | 'open' | 'ready' | 'sms' | 'aborted';
interface Loading {
  reference: string;
  compartmentId: string;
  step: Step;
}

const MESSAGES: { readonly [C in ErrorCode]?: (ref: string) => string } = {
  PICKUP_NOT_FOUND: (ref) => `Unbekannte Vorgangsnummer „${ref}“. Es wurde nichts geändert.`,
  INVALID_REFERENCE: (ref) => `„${ref}“ ist keine Vorgangsnummer (3–40 Zeichen). Bitte erneut scannen.`,
};

export function LoadView({ ctx }: { ctx: ViewContext }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState<Loading | null>(null);
  const current = useRef<Loading | null>(null);
  current.current = loading;

  useEffect(() => input.current?.focus(), []);

  // Follow the door of the compartment being loaded and the pickup's status.
  useEffect(() => {
    if (!loading) return;
    const { compartmentId, reference } = loading;
    const advance = (step: Step) => setLoading((l) => (l && l.reference === reference ? { ...l, step } : l));
    const stopDoor = ctx.live.watch(compartmentId, (c) => {
      if (c.door === 'open' && current.current?.step === 'opening') advance('open');
    });
    const stopPickup = ctx.live.pickupChanges.listen((p) => {
      if (p.reference !== reference) return;
      if (p.status === 'READY' && p.change === 'ready') advance('ready');
      if (p.change === 'loadAborted') advance('aborted');
    });
    return () => {
      stopDoor();
      stopPickup();
    };
  }, [loading?.reference, loading?.compartmentId]);

  // Once READY, wait for the outbox to deliver the PIN SMS.
  useEffect(() => {
    if (loading?.step !== 'ready') return;
    const reference = loading.reference;
    let stopped = false;
    const poll = async () => {
      for (let i = 0; i < 240 && !stopped; i++) {
        const data = await gql(ctx.client, 'query($r: String!) { pickup(reference: $r) { status pinSms } }', { r: reference }).catch(() => null);
        if (data?.pickup?.pinSms === 'SENT') {
          setLoading((l) => (l && l.reference === reference ? { ...l, step: 'sms' } : l));
          input.current?.focus();
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    void poll();
    return () => void (stopped = true);
  }, [loading?.step, loading?.reference]);

  const submit = async (raw: string) => {
    const reference = raw.trim();
    if (!reference) return;
    setBusy(true);
    setError(null);
    try {
      const data = await gql(ctx.client, 'mutation($r: String!) { loadPickup(reference: $r) { reference status compartmentId } }', { r: reference });
      const p = data.loadPickup;
      setLoading({ reference: p.reference, compartmentId: p.compartmentId, step: ctx.live.get(p.compartmentId)?.door === 'open' ? 'open' : 'opening' });
    } catch (err) {
      setError(MESSAGES[codeOfProblem(err)]?.(reference) ?? `Nicht geladen: ${problemText(err)}. Es wurde nichts geändert.`);
    } finally {
      setBusy(false);
      if (input.current) {
        input.current.value = '';
        input.current.focus();
      }
    }
  };

  const c = loading ? ctx.live.get(loading.compartmentId) : undefined;
  return (
    <section aria-labelledby="load-title">
      <h2 id="load-title">Dokument beladen</h2>
      <form
        class="scan"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(input.current?.value ?? '');
        }}
      >
        <label for="reference">Vorgangsnummer scannen oder eingeben</label>
        <input id="reference" ref={input} name="reference" autocomplete="off" spellcheck={false} maxLength={40} aria-describedby="scan-hint" />
        <button type="submit" class="primary" disabled={busy}>
          Fach öffnen
        </button>
        <p id="scan-hint" class="hint">
          Der Scanner tippt die Nummer und Enter. Die Box wählt ein passendes Fach und öffnet es.
        </p>
      </form>
      <div role="status" aria-live="polite" class="load-status">
        {error && <p class="error">{error}</p>}
        {loading && (
          <div class="loading-card">
            <p class="big">
              Fach <strong data-testid="load-compartment">{loading.compartmentId}</strong>
              {c && ` — Spalte ${loading.compartmentId.replace(/\d+$/, '')}, Reihe ${c.row}${c.heightCm ? `, ${c.heightCm} cm hoch` : ''}, Größe ${c.size}${c.accessible ? ', rollstuhlgerecht' : ''}`}
            </p>
            <ol class="steps" data-step={loading.step}>
              <li class={loading.step === 'opening' ? 'now' : 'done'}>{loading.step === 'opening' ? '… Fach öffnet, Tür aufziehen' : '✓ Tür ist offen'}</li>
              <li class={stepClass(loading.step, ['open'], ['ready', 'sms'])}>
                {loading.step === 'ready' || loading.step === 'sms' ? '✓ Dokument eingelegt, Tür geschlossen' : 'Dokument einlegen und Tür schließen'}
              </li>
              <li class={stepClass(loading.step, ['ready'], ['sms'])}>
                {loading.step === 'ready' || loading.step === 'sms' ? `✓ Vorgang ${loading.reference} ist abholbereit (READY)` : 'Abholbereit'}
              </li>
              <li class={stepClass(loading.step, [], ['sms'])}>{loading.step === 'sms' ? '✓ SMS mit PIN ist versendet' : 'SMS mit PIN'}</li>
            </ol>
            {loading.step === 'aborted' && <p class="error">Die Tür wurde nicht geöffnet; das Fach ist wieder verriegelt. Bitte erneut scannen.</p>}
            {loading.step === 'sms' && <p class="done-note">Fertig. Nächste Vorgangsnummer scannen.</p>}
          </div>
        )}
      </div>
      {loading && <BoxFront source={ctx.live} highlight={loading.compartmentId} label={`Vorderseite der Box, Fach ${loading.compartmentId} markiert`} />}
    </section>
  );
}

function stepClass(step: Step, now: Step[], done: Step[]): string {
  return done.includes(step) ? 'done' : now.includes(step) ? 'now' : 'todo';
}
