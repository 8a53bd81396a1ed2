import type { Client } from 'graphql-ws';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { connectToBox } from '../shared/graphql.js';
import { BoxError, signIn, signOut, whoAmI, type Who } from './api.js';
import { alarmWords } from './alarm-text.js';
import { ConfirmDialog, type ConfirmRequest } from './confirm.js';
import { ALARM_LIST, partsWithoutAlarm, partWords } from './revive.js';
import './console.css';
import { LiveBox } from './live.js';
import { playAlarmTone, unlockTones } from './tone.js';
import { AlarmsView } from './views/alarms.js';
import { AuditView } from './views/audit.js';
import { BoxView } from './views/box.js';
import { FiguresView } from './views/figures.js';
import { LoadView } from './views/load.js';
import { WorklistView } from './views/worklist.js';

/**
 * The staff console (`/staff`) and the monitor (`/monitor`) are one app: the monitor shows the
 * same views with every action left out, and its credential could not change anything anyway.
 */
export type Mode = 'staff' | 'monitor';

export interface ViewContext {
  mode: Mode;
  who: Who;
  live: LiveBox;
  client: Client;
  /** true when actions may be offered (staff page, staff credential) */
  canAct: boolean;
  confirm(request: ConfirmRequest): void;
}

const TITLE: Record<Mode, string> = { staff: 'Ausgabebox — Personal', monitor: 'Ausgabebox — Überwachung' };

const VIEWS = {
  load: { label: 'Beladen', staffOnly: true },
  worklist: { label: 'Rückholung', staffOnly: false },
  box: { label: 'Box', staffOnly: false },
  alarms: { label: 'Alarme', staffOnly: false },
  figures: { label: 'Kennzahlen', staffOnly: false },
  audit: { label: 'Protokoll', staffOnly: false },
} as const;
type ViewName = keyof typeof VIEWS;

export function ConsoleApp({ mode }: { mode: Mode }) {
  const [who, setWho] = useState<Who | null | undefined>(undefined);
  useEffect(() => {
    whoAmI().then(setWho, () => setWho(null));
  }, []);
  if (who === undefined) {
    return (
      <main class="signin">
        <h1>{TITLE[mode]}</h1>
        <p role="status">Verbindung zur Box …</p>
      </main>
    );
  }
  if (who === null) return <SignIn mode={mode} onSignedIn={setWho} />;
  return <Console mode={mode} who={who} onSignedOut={() => setWho(null)} />;
}

function SignIn({ mode, onSignedIn }: { mode: Mode; onSignedIn: (who: Who) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <h1>{TITLE[mode]}</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          unlockTones();
          const input = (e.currentTarget as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
          setBusy(true);
          setError(null);
          try {
            const who = await signIn(input.value);
            input.value = '';
            onSignedIn(who);
          } catch (err) {
            setError((err as Error).message);
            input.select();
          } finally {
            setBusy(false);
          }
        }}
      >
        <h2>Anmelden</h2>
        <p>{mode === 'staff' ? 'Mit Ihrem persönlichen Zugangsschlüssel für das Personal.' : 'Mit dem Zugangsschlüssel der Überwachung (nur Ansicht).'}</p>
        <label for="token">Zugangsschlüssel</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autoFocus aria-describedby={error ? 'signin-error' : undefined} />
        <button type="submit" class="primary" disabled={busy}>
          Anmelden
        </button>
        {error && (
          <p id="signin-error" class="error" role="alert">
            {error}
          </p>
        )}
        <p class="hint">Die Anmeldung gilt bis zum Abmelden oder bis der Browser geschlossen wird.</p>
      </form>
    </main>
  );
}

function Console({ mode, who, onSignedOut }: { mode: Mode; who: Who; onSignedOut: () => void }) {
  const client = useMemo(() => connectToBox(), []);
  const live = useMemo(() => new LiveBox(client), [client]);
  const [ready, setReady] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [view, setView] = useState<ViewName>(mode === 'staff' && who.role === 'staff' ? 'load' : 'box');
  const [confirmRequest, setConfirm] = useState<ConfirmRequest | null>(null);
  const [alarmCount, setAlarmCount] = useState({ open: 0, critical: 0 });
  const [alert, setAlert] = useState<string | null>(null);
  const canAct = mode === 'staff' && who.role === 'staff';

  useEffect(() => {
    // A part failed for good that no alarm names (the alarm list itself) counts as a critical alarm.
    const count = () => {
      const unnamed = partsWithoutAlarm(live).length;
      setAlarmCount({ open: live.alarms.length + unnamed, critical: live.alarms.filter((a) => a.severity === 'critical').length + unnamed });
    };
    const stopAlarms = live.alarmChanges.listen(({ kind, alarm }) => {
      count();
      if (kind === 'RAISED' && alarm.severity === 'critical') {
        playAlarmTone();
        setAlert(`Neuer kritischer Alarm: ${alarmWords(alarm.code)?.what ?? alarm.text} (${alarm.subject})`);
      }
    });
    const stopParts = live.partsChanged.listen((parts) => {
      count();
      if (parts.includes(ALARM_LIST) && partsWithoutAlarm(live).includes(ALARM_LIST)) {
        playAlarmTone();
        setAlert(`Neuer kritischer Alarm: ${partWords(ALARM_LIST).what}`);
      }
    });
    live.start().then(
      () => {
        count();
        setReady(true);
        live.watchParts();
      },
      (err) => {
        if (err instanceof BoxError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) onSignedOut();
        else setProblem(`Die Box antwortet nicht: ${(err as Error).message ?? err}`);
      },
    );
    return () => {
      stopAlarms();
      stopParts();
      live.close();
      void client.dispose();
    };
  }, [live]);

  const ctx: ViewContext = { mode, who, live, client, canAct, confirm: setConfirm };
  const views = (Object.keys(VIEWS) as ViewName[]).filter((v) => canAct || !VIEWS[v].staffOnly);

  return (
    <div class="console">
      <header class="top">
        <h1>{TITLE[mode]}</h1>
        <BoxStatus live={live} ready={ready} />
        <p class={`alarm-badge ${alarmCount.critical ? 'critical' : alarmCount.open ? 'open' : ''}`} role="status" aria-live="polite">
          {alarmCount.open === 0 ? '✓ keine offenen Alarme' : `⚠ ${alarmCount.open} ${alarmCount.open === 1 ? 'offener Alarm' : 'offene Alarme'}${alarmCount.critical ? `, ${alarmCount.critical} kritisch` : ''}`}
        </p>
        <p class="who">
          Angemeldet: <strong>{who.identity}</strong> ({who.role === 'staff' ? 'Personal' : 'Überwachung'}{mode === 'monitor' ? ', nur Ansicht' : ''})
        </p>
        <button
          type="button"
          onClick={async () => {
            await signOut().catch(() => {});
            onSignedOut();
          }}
        >
          Abmelden
        </button>
      </header>
      <nav aria-label="Bereiche">
        <ul>
          {views.map((v) => (
            <li key={v}>
              <button type="button" aria-current={view === v ? 'page' : undefined} onClick={() => setView(v)}>
                {VIEWS[v].label}
                {v === 'alarms' && alarmCount.open > 0 ? ` (${alarmCount.open})` : ''}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div class="alert-region" role="alert">
        {alert && (
          <p class="alert">
            {alert}{' '}
            <button type="button" onClick={() => setAlert(null)}>
              Ausblenden
            </button>
          </p>
        )}
      </div>
      <main id="main">
        {problem && <p class="error">{problem}</p>}
        {!ready && !problem && <p role="status">Lade den Zustand der Box …</p>}
        {ready && view === 'load' && canAct && <LoadView ctx={ctx} />}
        {ready && view === 'worklist' && <WorklistView ctx={ctx} />}
        {ready && view === 'box' && <BoxView ctx={ctx} />}
        {ready && view === 'alarms' && <AlarmsView ctx={ctx} />}
        {ready && view === 'figures' && <FiguresView ctx={ctx} />}
        {ready && view === 'audit' && <AuditView ctx={ctx} />}
      </main>
      <ConfirmDialog request={confirmRequest} onClose={() => setConfirm(null)} />
    </div>
  );
}

function BoxStatus({ live, ready }: { live: LiveBox; ready: boolean }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => void live.refreshBox().then(() => tick((n) => n + 1), () => {}), 60_000);
    return () => clearInterval(timer);
  }, [live]);
  const b = live.box;
  if (!ready || !b) return null;
  return (
    <p class={`open-state ${b.openNow ? 'is-open' : 'is-closed'}`}>
      <strong>{b.name}</strong> — {b.openNow ? '● geöffnet' : '○ geschlossen'}
      {!b.openNow && b.nextOpening ? `, öffnet ${formatTime(b.nextOpening)}` : ''}
      <span class="hours">{b.hours}</span>
    </p>
  );
}

/** A time as the office reads it (Europe/Berlin). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('de-DE', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'short' });
}
