import type { Client } from 'graphql-ws';
import { errorCodeOf, type ErrorCode } from '../shared/error-code.js';
import { connectToBox, request } from '../shared/graphql.js';
import type { FrontSlot } from './box-front.js';
import type { LanguageId, MessageKey } from './messages.js';
import { OPERATIONS } from './operations.js';
import { DEFAULT_VOLUME, Speaker, VOLUME_STEPS } from './speech.js';
import { DONE_MS, DONE_WITH_ERROR_MS } from './timing.js';

/** The session as the box publishes it (schema `Session`). */
export interface SessionView {
  id: string;
  /** rises with every change the box publishes: a lower one than the panel has is stale */
  revision: number;
  step: string;
  /** a catalog code (schema `Session.error`) */
  error: ErrorCode | null;
  retryAt: string | null;
  oldIdPossible: boolean;
  compartmentId: string | null;
  outcome: string | null;
  /** the time limit (WCAG 2.2.1): when the session ends without input, whether it warns, extensions left */
  expiresAt: string | null;
  warning: boolean;
  extensionsLeft: number;
  /** a new PIN was asked for: on its way if a pickup waits for the number (the box answers alike either way) */
  pinRequested: boolean;
}

export interface PanelFacts {
  kioskId: string;
  openNow: boolean;
  nextOpening: string | null;
  hours: string;
  location: string;
  readerAvailable: boolean;
  shredderState: string;
  front: FrontSlot[];
}

export type Screen =
  | 'connecting'
  | 'unbound'
  | 'outOfOrder'
  | 'start'
  | 'closed'
  | 'busy'
  | 'phone'
  | 'lostSms'
  | 'pin'
  | 'checking'
  | 'factor'
  | 'card'
  | 'shredding'
  | 'birthDate'
  | 'opening'
  | 'done';

export interface PanelState {
  connection: 'connecting' | 'up' | 'down';
  bound: boolean;
  facts: PanelFacts | null;
  session: SessionView | null;
  /** digits typed at the current step; never leaves the page except in the step's mutation */
  entry: string;
  /** at the phone step: the citizen has no SMS and gives the number for a new PIN */
  lostSms: boolean;
  /** a problem outside a session (closed, busy, interrupted, …) as a catalog code */
  notice: { code: ErrorCode; nextOpening?: string | null } | null;
  pending: boolean;
  lang: LanguageId;
  largeText: boolean;
  speech: boolean;
  /** headphones connected: private listening, digits may be read back */
  privateAudio: boolean;
  volume: number;
  /** box clock minus page clock, for countdowns */
  clockOffsetMs: number;
}

export const DEFAULT_LANGUAGE: LanguageId = 'de';
const HOLD_FOR_SPEECH_MS = 2_000;
const MAX_DIGITS: Partial<Record<Screen, number>> = { phone: 15, lostSms: 15, pin: 6, birthDate: 8 };


export function screenOf(s: PanelState): Screen {
  if (!s.bound) return 'unbound';
  if (s.connection === 'down') return 'outOfOrder';
  if (!s.facts) return 'connecting';
  const session = s.session;
  if (!session) return s.notice?.code === 'BOX_CLOSED' ? 'closed' : s.notice?.code === 'KIOSK_BUSY' ? 'busy' : 'start';
  switch (session.step) {
    case 'checkingPin':
    case 'checkingCard':
    case 'checkingBirthDate':
      return 'checking';
    case 'phone':
      return s.lostSms ? 'lostSms' : 'phone';
    case 'pin':
    case 'factor':
    case 'card':
    case 'shredding':
    case 'birthDate':
    case 'opening':
    case 'done':
      return session.step;
    default:
      return 'checking';
  }
}

const fresh = (bound: boolean): PanelState => ({
  connection: 'connecting',
  bound,
  facts: null,
  session: null,
  entry: '',
  lostSms: false,
  notice: null,
  pending: false,
  lang: DEFAULT_LANGUAGE,
  largeText: false,
  speech: false,
  privateAudio: false,
  volume: DEFAULT_VOLUME,
  clockOffsetMs: 0,
});

type GqlError = { message: string; extensions?: Record<string, unknown> };
/** The first error's catalog code, or null when there is no error. */
const codeOf = (errors: ReadonlyArray<GqlError> | undefined): ErrorCode | null => (errors?.length ? errorCodeOf(errors[0]) : null);

/**
 * The panel's state and everything that changes it: the box connection, the session subscription,
 * keys and taps. The view renders `state`; `listen` tells it when to.
 */
export class Panel {
  state: PanelState;
  readonly speaker = new Speaker();
  private client: Client | null = null;
  private stopSubscription: (() => void) | null = null;
  private listeners = new Set<() => void>();
  private doneTimer: ReturnType<typeof setTimeout> | null = null;
  private devicesTimer: ReturnType<typeof setInterval> | null = null;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private wasUp = false;
  /** keys pressed while an input's answer is pending: replayed in order once it is in */
  private queued: Array<() => void> = [];

  constructor(bound: boolean) {
    this.state = fresh(bound);
  }

  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<PanelState>): void {
    this.state = { ...this.state, ...patch };
    this.afterChange();
    for (const listener of this.listeners) listener();
  }

  /** The box clock now, as far as the page can tell. */
  boxNow(): number {
    return Date.now() + this.state.clockOffsetMs;
  }

  connect(): void {
    if (!this.state.bound) return;
    this.client = connectToBox({
      shouldRetry: () => true,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 4_000))),
      on: {
        connected: () => void this.onConnected(),
        closed: () => {
          if (this.wasUp) this.set({ connection: 'down' });
        },
      },
    });
  }

  private async onConnected(): Promise<void> {
    this.wasUp = true;
    const panel = await this.query<{ kioskPanel: PanelFacts & { now: string } }>('Panel');
    if (!panel.data?.kioskPanel) {
      const code = codeOf(panel.errors);
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') return this.set({ bound: false, connection: 'up' });
      return this.set({ connection: 'down' });
    }
    const { now, ...facts } = panel.data.kioskPanel;
    const patch: Partial<PanelState> = { connection: 'up', facts, clockOffsetMs: Date.parse(now) - Date.now() };
    // Back after the box was away: a session that no longer exists ended with the restart.
    const session = this.state.session;
    if (session && session.step !== 'done') {
      const again = await this.query<{ session: SessionView | null }>('Session', { id: session.id });
      if (!again.data?.session) {
        this.stopSubscription?.();
        this.stopSubscription = null;
        Object.assign(patch, { session: null, entry: '', notice: { code: 'INTERRUPTED' } });
      } else if (this.isNewer(again.data.session)) patch.session = again.data.session;
    }
    this.set(patch);
  }

  private query<T>(name: keyof typeof OPERATIONS, variables?: Record<string, unknown>) {
    if (!this.client) return Promise.resolve({ errors: [{ message: 'not connected' }] } as { data?: T | null; errors?: ReadonlyArray<GqlError> });
    return request<T>(this.client, OPERATIONS[name], variables).catch(() => ({ errors: [{ message: 'connection lost' }] }) as { data?: T | null; errors?: ReadonlyArray<GqlError> });
  }

  // --- session --------------------------------------------------------------------------------

  /** Starts a session (Enter or the start button on the start screen). */
  readonly start = this.inTurn(async (): Promise<void> => {
    if (this.state.session) return;
    this.set({ pending: true, notice: null });
    const result = await this.query<{ startSession: SessionView }>('StartSession');
    const session = result.data?.startSession;
    if (!session) {
      const error = result.errors?.[0];
      const details = error?.extensions?.details as { nextOpening?: number | string } | undefined;
      const next = details?.nextOpening;
      this.set({
        pending: false,
        notice: { code: codeOf(result.errors) ?? 'INTERNAL', nextOpening: typeof next === 'number' ? new Date(next).toISOString() : (next ?? this.state.facts?.nextOpening ?? null) },
      });
      return this.replayQueued();
    }
    this.set({ pending: false, session, entry: '' });
    this.subscribe(session.id);
    this.replayQueued();
  });

  /**
   * `handler` as a key's (or a tap's) action that takes its turn: pressed while an answer is
   * pending, it runs once the answer is in, after the keys pressed before it — so a fast burst loses
   * nothing and never acts on a stale screen. Every action that reads the screen or sends an input
   * is one of these; none checks `pending` itself.
   */
  private inTurn<A extends unknown[]>(handler: (...args: A) => unknown): (...args: A) => void {
    const inTurn = (...args: A): void => {
      if (this.state.pending) return void this.queued.push(() => inTurn(...args));
      void handler(...args);
    };
    return inTurn;
  }

  private replayQueued(): void {
    const keys = this.queued;
    this.queued = [];
    // A replayed key that sends an input makes the rest wait again, in order.
    for (const key of keys) key();
  }

  /** Whether `view` is the panel's session at a later revision than the one shown. */
  private isNewer(view: SessionView): boolean {
    const current = this.state.session;
    return !!current && current.id === view.id && view.revision > current.revision;
  }

  private subscribe(sessionId: string): void {
    this.stopSubscription?.();
    if (!this.client) return;
    this.stopSubscription = this.client.subscribe<{ sessionChanged: SessionView }>(
      { query: OPERATIONS.SessionChanged, variables: { sessionId } },
      {
        next: (result) => {
          const view = result.data?.sessionChanged;
          if (view && this.isNewer(view)) this.applySession(view);
        },
        error: () => {},
        complete: () => {},
      },
    );
  }

  /**
   * A newer view of the session. What is being typed stays while the step stays (a timer, the
   * headphones or a late echo must not wipe it); a new step, or a new problem at the same step
   * (the entry was refused), starts the entry afresh.
   */
  private applySession(view: SessionView): void {
    const before = this.state.session;
    const stepChanged = before?.step !== view.step;
    const fresh = stepChanged || (view.error !== null && view.error !== before?.error);
    this.set({ session: view, entry: fresh ? '' : this.state.entry, lostSms: stepChanged ? false : this.state.lostSms });
    // Countdowns run against the box's clock: take it afresh when one starts.
    if ((view.warning && !before?.warning) || (view.retryAt && view.retryAt !== before?.retryAt)) void this.syncClock();
  }

  private async syncClock(): Promise<void> {
    const result = await this.query<{ kioskPanel: { now: string } }>('Devices');
    const now = result.data?.kioskPanel.now;
    if (now) this.set({ clockOffsetMs: Date.parse(now) - Date.now() });
  }

  private readonly input = this.inTurn(async (name: 'EnterPhone' | 'EnterPin' | 'ChooseFactor' | 'EnterBirthDate' | 'CancelSession' | 'ExtendSession' | 'RequestNewPin', variables: Record<string, unknown>): Promise<void> => {
    const session = this.state.session;
    if (!session) return;
    this.set({ pending: true });
    const result = await this.query<Record<string, SessionView>>(name, { sessionId: session.id, ...variables });
    const view = result.data ? Object.values(result.data)[0] : undefined;
    if (view && this.state.session?.id === view.id) {
      // The subscription may have shown this revision (or a later one) already: then it stays.
      if (this.isNewer(view)) this.applySession(view);
      this.set({ pending: false });
      return this.replayQueued();
    }
    const code = codeOf(result.errors);
    if (code === 'SESSION_NOT_FOUND') this.set({ pending: false, session: { ...session, step: 'done', error: 'SESSION_TIMEOUT', outcome: 'timeout' }, entry: '' });
    else {
      // A shape the box refused before the session saw it (e.g. a number too short): explained at the step.
      const local = name === 'EnterPhone' || name === 'RequestNewPin' ? 'INVALID_PHONE' : name === 'EnterPin' ? 'INVALID_PIN_FORMAT' : name === 'EnterBirthDate' ? 'INVALID_BIRTH_DATE' : code;
      this.set({ pending: false, entry: '', session: { ...this.state.session!, error: local } });
    }
    this.replayQueued();
  });

  /** Enter / Continue at the current screen. */
  readonly confirm = this.inTurn((): void => {
    const screen = screenOf(this.state);
    const entry = this.state.entry;
    if (screen === 'start' || screen === 'closed' || screen === 'busy') return void this.start();
    if (screen === 'done') return this.cleanSlate();
    if (this.throttledSeconds() > 0) return;
    if (screen === 'phone' && entry.length > 0) return void this.input('EnterPhone', { phone: entry.replace(/^00/, '+') });
    // Enter without a number: "I have not received an SMS" (a keypad has no spare key for it).
    if (screen === 'phone') return this.noSms();
    if (screen === 'lostSms' && entry.length > 0) return void this.input('RequestNewPin', { phone: entry.replace(/^00/, '+') });
    if (screen === 'pin' && entry.length > 0) return void this.input('EnterPin', { pin: entry });
    if (screen === 'birthDate' && entry.length > 0) return void this.input('EnterBirthDate', { birthDate: birthDateText(entry) });
  });

  readonly chooseFactor = this.inTurn((factor: 'OLD_ID' | 'BIRTH_DATE'): void => {
    if (screenOf(this.state) !== 'factor') return;
    if (factor === 'OLD_ID' && !this.state.session?.oldIdPossible) return;
    void this.input('ChooseFactor', { factor });
  });

  readonly cancel = this.inTurn((): void => {
    const screen = screenOf(this.state);
    if (screen === 'done') return this.cleanSlate();
    // The box cannot be reached: a cancel would wait for it unseen and end the session when it is back.
    if (screen === 'outOfOrder') return;
    if (this.state.session && this.state.session.step !== 'opening' && this.state.session.step !== 'shredding') void this.input('CancelSession', {});
    else if (!this.state.session && this.state.notice) this.set({ notice: null });
  });

  /** Whether one key now asks for more time: the box warns and extensions are left (WCAG 2.2.1). */
  canExtend(): boolean {
    const s = this.state.session;
    return !!s && s.warning && s.extensionsLeft > 0 && s.step !== 'done';
  }

  /** More time: the session's time limit starts again; what is being typed stays. */
  readonly extend = this.inTurn((): void => {
    if (this.canExtend()) void this.input('ExtendSession', {});
  });

  readonly digit = this.inTurn((d: string): void => {
    const screen = screenOf(this.state);
    const max = MAX_DIGITS[screen];
    if (screen === 'factor') {
      if (d === '1') this.chooseFactor('OLD_ID');
      if (d === '2') this.chooseFactor('BIRTH_DATE');
      return;
    }
    if ((screen === 'start' || screen === 'closed' || screen === 'busy') && d === '0') return this.nextLanguage();
    if (!max || this.state.entry.length >= max) return;
    this.set({ entry: this.state.entry + d });
    this.sayDigit(d);
  });

  /** "I have not received an SMS": the number is asked for a new PIN instead of the PIN. */
  readonly noSms = this.inTurn((): void => {
    if (screenOf(this.state) !== 'phone') return;
    // The phone step's last problem is not this screen's (a throttle is: its countdown stays).
    const session = this.state.session!;
    this.set({ lostSms: true, entry: '', session: session.error === 'AUTH_THROTTLED' ? session : { ...session, error: null } });
  });

  readonly back = this.inTurn((): void => {
    // Out of order the entry is hidden: a digit taken from it would be missing unseen once the box is back.
    if (screenOf(this.state) === 'outOfOrder') return;
    // Back on an empty number leaves the lost-SMS screen for the usual one.
    if (!this.state.entry && this.state.lostSms) return this.set({ lostSms: false });
    if (!this.state.entry) return;
    this.set({ entry: this.state.entry.slice(0, -1) });
    if (this.state.speech) this.sayKey('speech.deleted');
  });

  /** Seconds until a throttled number may try again (0 when not throttled). */
  throttledSeconds(): number {
    const s = this.state.session;
    if (!s?.retryAt || s.error !== 'AUTH_THROTTLED') return 0;
    return Math.max(0, Math.ceil((Date.parse(s.retryAt) - this.boxNow()) / 1000));
  }

  /** Seconds left before the session times out, while the box warns. */
  warningSeconds(): number {
    const s = this.state.session;
    if (!s?.warning || !s.expiresAt) return 0;
    return Math.max(0, Math.ceil((Date.parse(s.expiresAt) - this.boxNow()) / 1000));
  }

  /** The final screen's time: short after a pickup, a cancel or a timeout, longer when it asks the citizen to do something. */
  private armDone(): void {
    const outcome = this.state.session?.outcome;
    const quick = outcome === 'collected' || outcome === 'timeout' || outcome === 'cancelled';
    this.doneTimer = setTimeout(() => this.cleanSlate(), quick ? DONE_MS : DONE_WITH_ERROR_MS);
  }

  /**
   * Somebody is still at the panel on the final screen (they changed the language, the text size,
   * speech or its volume, or asked to hear it again): it stays its whole time from now, not from
   * when it came, so it is not wiped while they read it.
   */
  private stillThere(): void {
    // (Only on the final screen: one left for another, the connection lost, keeps its time.)
    if (!this.doneTimer || screenOf(this.state) !== 'done') return;
    clearTimeout(this.doneTimer);
    this.armDone();
  }

  // --- preferences ----------------------------------------------------------------------------

  setLanguage(lang: LanguageId): void {
    this.set({ lang });
    this.stillThere();
  }

  nextLanguage(): void {
    const order: LanguageId[] = ['de', 'ls', 'en', 'tr', 'ar', 'uk', 'ru'];
    this.setLanguage(order[(order.indexOf(this.state.lang) + 1) % order.length]!);
  }

  toggleLargeText(): void {
    this.set({ largeText: !this.state.largeText });
    this.stillThere();
  }

  setSpeech(on: boolean): void {
    this.set({ speech: on });
    this.stillThere();
    if (on) this.repeat();
    else this.speaker.stop();
  }

  /** Headphones plugged in or out: private listening switches speech on (5.2: no sighted help needed). */
  setPrivateAudio(on: boolean): void {
    this.set({ privateAudio: on, speech: on ? true : this.state.speech });
    if (on) this.repeat();
  }

  volume(delta: number): void {
    const volume = Math.min(VOLUME_STEPS, Math.max(1, this.state.volume + delta));
    this.set({ volume });
    this.stillThere();
    if (this.state.speech) this.sayKey('speech.volume', { level: volume, max: VOLUME_STEPS });
  }

  /** Help: say the whole screen again. */
  repeat(): void {
    this.spoken = '';
    this.afterChange(true);
    this.stillThere();
  }

  /** The Help key went down: held long enough, it switches speech on or off without sight (EN 301 549 8.5). */
  helpDown(): void {
    if (this.holdTimer) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.setSpeech(!this.state.speech);
    }, HOLD_FOR_SPEECH_MS);
  }

  helpUp(): void {
    if (this.holdTimer) {
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
      if (this.state.speech) this.repeat();
    }
  }

  // --- speech and timers ----------------------------------------------------------------------

  /** what was last spoken for the screen, so that a re-render does not repeat it */
  private spoken = '';
  /** set by the view: the text of the screen as it should be spoken */
  screenText: () => { key: string; text: string; tag: string } = () => ({ key: '', text: '', tag: 'de' });
  /** set by the view: a message in the current language */
  say: (key: MessageKey, values?: Record<string, string | number>) => { text: string; tag: string } = () => ({ text: '', tag: 'de' });

  private sayKey(key: MessageKey, values?: Record<string, string | number>): void {
    const { text, tag } = this.say(key, values);
    this.speaker.say(text, tag, this.state.volume, this.state.privateAudio);
  }

  private sayDigit(d: string): void {
    if (!this.state.speech) return;
    // Digits are personal: through the speaker only "digit entered" (5.1.3.8/9), read back in private.
    if (this.state.privateAudio) this.speaker.say(d, this.say('speech.digit').tag, this.state.volume, true);
    else this.sayKey('speech.digit');
  }

  private afterChange(force = false): void {
    const screen = screenOf(this.state);
    // The done screen stays a moment, then the panel is clean for the next person.
    if (screen === 'done' && !this.doneTimer) this.armDone();
    if (screen === 'card' && !this.devicesTimer) {
      this.devicesTimer = setInterval(() => void this.refreshDevices(), 1_000);
    } else if (screen !== 'card' && this.devicesTimer) {
      clearInterval(this.devicesTimer);
      this.devicesTimer = null;
    }
    if (!this.state.speech) return;
    const { key, text, tag } = this.screenText();
    if (!force && key === this.spoken) return;
    this.spoken = key;
    this.speaker.say(text, tag, this.state.volume, this.state.privateAudio);
  }

  private async refreshDevices(): Promise<void> {
    const result = await this.query<{ kioskPanel: { now: string; readerAvailable: boolean; shredderState: string } }>('Devices');
    const p = result.data?.kioskPanel;
    if (p && this.state.facts && (p.readerAvailable !== this.state.facts.readerAvailable || p.shredderState !== this.state.facts.shredderState)) {
      this.set({ facts: { ...this.state.facts, readerAvailable: p.readerAvailable, shredderState: p.shredderState } });
    }
  }

  /**
   * Nothing of the finished session stays: its view, the typed digits, the language and text size
   * chosen, the volume; the history entry is replaced. Speech stays on only while headphones are in.
   */
  cleanSlate(): void {
    if (this.doneTimer) clearTimeout(this.doneTimer);
    this.doneTimer = null;
    this.stopSubscription?.();
    this.stopSubscription = null;
    this.queued = [];
    this.speaker.stop();
    const { connection, bound, facts, clockOffsetMs, privateAudio } = this.state;
    this.spoken = '';
    this.state = { ...fresh(bound), connection, facts, clockOffsetMs, privateAudio, speech: privateAudio };
    history.replaceState(null, '', location.pathname);
    this.afterChange();
    for (const listener of this.listeners) listener();
  }
}

/** DDMMYYYY as typed → DD.MM.YYYY as the box reads it. */
export function birthDateText(digits: string): string {
  return `${digits.slice(0, 2)}.${digits.slice(2, 4)}.${digits.slice(4, 8)}`;
}
