import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { mount } from '../shared/mount.js';
import { BoxFront, positionOf } from './box-front.js';
import { boxText, translator, languageOf, typedExample, type Translate } from './i18n.js';
import { LANGUAGES, type MessageKey } from './messages.js';
import { errorMessage } from './errors.js';
import { Panel, screenOf, type PanelState, type Screen } from './panel.js';
import { keyAction } from './keys.js';
import './style.css';

const TIME_ZONE = 'Europe/Berlin';
/** The examples the screens give: day, month and year as typed; how a German mobile number begins. */
const BIRTH_DATE_EXAMPLE = typedExample('12 04 1980');
const PHONE_EXAMPLE = typedExample('0152 …');

/**
 * The texts of a screen, in reading order: heading first. Shown and spoken alike. `message`: the
 * heading is a whole message (a session that ended with a problem), shown at text size. `aside`: a
 * line shown after the keypad, beside it under the entry where the screen is wide (read last).
 */
function screenTexts(panel: Panel, s: PanelState, t: Translate): { heading: string; lines: string[]; error: string | null; message?: boolean; aside?: string } {
  const screen = screenOf(s);
  const session = s.session;
  const facts = s.facts;
  // The box's address and hours are German inside every language's sentence.
  const location = boxText(facts?.location ?? '');
  const hours = boxText(facts?.hours ?? '');
  const errorCode = session?.error ?? (s.notice && s.notice.code !== 'BOX_CLOSED' && s.notice.code !== 'KIOSK_BUSY' ? s.notice.code : null);
  const error = errorCode ? t(errorMessage(errorCode), { location }) : null;
  const throttled = panel.throttledSeconds();
  const withCountdown = throttled > 0 && error ? `${error} ${t('throttle.countdown', { seconds: throttled })}` : error;
  switch (screen) {
    case 'connecting':
      return { heading: t('checking.heading'), lines: [], error: null };
    case 'unbound':
      return { heading: t('unbound.heading'), lines: [t('unbound.text')], error: null };
    case 'outOfOrder':
      return { heading: t('outOfOrder.heading'), lines: [t('outOfOrder.text')], error: null };
    case 'start':
      return { heading: t('start.heading'), lines: [t('start.text'), t('start.keys')], error: withCountdown };
    case 'closed': {
      const next = s.notice?.nextOpening ?? facts?.nextOpening;
      const lines = next ? [t('closed.text', { next: new Date(next) })] : [];
      return { heading: t('closed.heading'), lines: [...lines, t('closed.hours', { hours })], error: null };
    }
    case 'busy':
      return { heading: t('busy.heading'), lines: [t('busy.text')], error: null };
    case 'phone':
      return { heading: t('phone.heading'), lines: [t('phone.text', { example: PHONE_EXAMPLE }), t('phone.noSmsKey')], error: withCountdown };
    case 'lostSms':
      // "Has your number changed?" under the number being typed, where the keypad leaves room beside it.
      return { heading: t('lostSms.heading'), lines: [t('lostSms.text')], aside: t('lostSms.changed', { location }), error: withCountdown };
    case 'pin': {
      const resent = session?.pinRequested ? [t('pin.resent', { location })] : [];
      return { heading: t('pin.heading'), lines: [...resent, t('pin.text')], error: withCountdown };
    }
    case 'checking':
      return { heading: t('checking.heading'), lines: [t('checking.text')], error: null };
    case 'factor':
      return { heading: t('factor.heading'), lines: [t('factor.text')], error };
    case 'card': {
      const reader = facts?.readerAvailable ? 'ready' : 'out';
      const shredder = facts?.shredderState === 'jammed' ? 'jammed' : facts?.shredderState === 'binFull' ? 'full' : facts?.shredderState === 'failed' ? 'jammed' : 'ready';
      return { heading: t('card.heading'), lines: [t('card.text'), t('card.reader', { state: reader }), t('card.shredder', { state: shredder })], error };
    }
    case 'shredding':
      return { heading: t('shredding.heading'), lines: [t('shredding.text')], error: null };
    case 'birthDate':
      return { heading: t('birthDate.heading'), lines: [t('birthDate.text', { example: BIRTH_DATE_EXAMPLE })], error };
    case 'opening': {
      const id = session?.compartmentId;
      const where = id && facts ? positionOf(facts.front, id) : null;
      if (!id) return { heading: t('opening.wait'), lines: [], error: null };
      return {
        heading: t('opening.heading', { id }),
        lines: [...(where ? [t('opening.where', { row: where.rowFromBottom, column: where.column })] : []), t('opening.take')],
        error: null,
      };
    }
    case 'done': {
      if (session?.outcome === 'collected') return { heading: t('done.collected'), lines: [t('done.next')], error: null };
      // Locked or quarantined: the counter is the way on, so its opening hours are part of the answer.
      const toCounter = session?.error === 'PICKUP_LOCKED' || session?.error === 'PICKUP_FAILED';
      const counterHours = toCounter && facts?.hours ? [t('closed.hours', { hours })] : [];
      return { heading: error ?? t('done.cancelled'), lines: [...counterHours, t('done.next')], error: null, message: !!error };
    }
  }
}

/**
 * Large text as large as the screen allows: when the screen's content would need scrolling (a
 * long text, a long translation, the panel upright), its text steps down 4 px at a time toward
 * the normal size, never below it. Every control and every line stays on the screen; the keypad
 * and the bars keep their size.
 */
function fitText(screen: HTMLElement | null, large: boolean): void {
  if (!screen) return;
  // Normal text is the floor already: nothing is measured. (Reading even the screen's computed
  // font size laid the new screen out ahead of its frame, in Chromium's trace: on a slow panel that
  // was the larger part of a key's answer.)
  if (!large) {
    if (screen.style.fontSize) screen.style.fontSize = '';
    return;
  }
  screen.style.fontSize = '';
  const full = parseFloat(getComputedStyle(screen).fontSize);
  // The normal size is the body's (style.css `--body` at the root; large text sets it on the panel only).
  const normal = parseFloat(getComputedStyle(document.body).fontSize);
  for (let size = full - 4; size >= normal && screen.scrollHeight > screen.clientHeight; size -= 4) screen.style.fontSize = `${size}px`;
}

/**
 * The section with the entry and the keypad, told its own size (`--box-w`, `--box-h`; style.css
 * sizes the keys from them). A new section starts from the size the last one had, so a screen
 * whose section is as large as before (the same screen again, the next step) is laid out once,
 * and the read below finds nothing to write. See `fitScreen` for when it runs.
 */
function fitRoom(screen: HTMLElement): void {
  const input = screen.querySelector<HTMLElement>('.input');
  if (!input) return;
  if (room && !input.style.getPropertyValue('--box-w')) {
    input.style.setProperty('--box-w', room.w);
    input.style.setProperty('--box-h', room.h);
  }
  // The content box, in layout's fractions of a pixel (clientWidth rounds).
  const box = input.getBoundingClientRect();
  const style = getComputedStyle(input);
  const edge = (side: string) => parseFloat(style.getPropertyValue(`padding-${side}`)) + parseFloat(style.getPropertyValue(`border-${side}-width`));
  const now = { w: `${box.width - edge('left') - edge('right')}px`, h: `${box.height - edge('top') - edge('bottom')}px` };
  if (input.style.getPropertyValue('--box-w') !== now.w) input.style.setProperty('--box-w', now.w);
  if (input.style.getPropertyValue('--box-h') !== now.h) input.style.setProperty('--box-h', now.h);
  room = now;
}
/** The size the last entry section had (`fitRoom`). */
let room: { w: string; h: string } | null = null;

/**
 * The words under ⌫ and ✓ read at the text floor or not at all: a word shows where it fits its key
 * whole at the floor (style.css `.key__label`); where the key is too narrow or too low for it, the
 * word is left off and the symbol grows instead (`.key:has(> .key__label[hidden])`, as far as the
 * key holds it). The key keeps
 * the word as its name, the footer's legend says it in text, and the tactile keypad has it too.
 * Keys grow with the free height, so this is decided afresh whenever the screen changes size.
 */
function fitKeyWords(screen: HTMLElement | null): void {
  if (!screen) return;
  // half a pixel for sub-pixel layout
  const overflows = (key: HTMLElement) => key.scrollWidth > key.clientWidth + 0.5 || key.scrollHeight > key.clientHeight + 0.5;
  // What decides a key's fit: its size, its symbol and word, and the word's size.
  const fitFor = (key: HTMLElement, label: HTMLElement) => `${key.clientWidth}×${key.clientHeight}|${key.textContent}|${getComputedStyle(label).fontSize}`;
  // A digit typed or a countdown's tick re-fits the screen's text; a key they left as it was keeps its fit.
  const stale: HTMLElement[] = [];
  // All reads before any write.
  const labels = [...screen.querySelectorAll<HTMLElement>('.key__label')].map((label) => ({ label, fit: fitFor(label.parentElement!, label) }));
  for (const { label, fit } of labels) {
    const key = label.parentElement!;
    if (keysFittedFor.get(key) === fit) continue;
    // A new screen's keypad is new elements, mostly of a size, symbol and word fitted before: that
    // fit is written as it was found, without measuring (a measure after a write is a layout more).
    const known = fits.get(fit);
    if (!known) {
      stale.push(label);
      continue;
    }
    if (label.hidden !== known.hidden) label.hidden = known.hidden;
    if (key.style.fontSize !== known.fontSize) key.style.fontSize = known.fontSize;
    keysFittedFor.set(key, fit);
  }
  if (stale.length === 0) return;
  // The keys are read together and written together, and only what changes is written: every read
  // after a write lays the screen out again (on a slow panel, several milliseconds each). A new
  // keypad whose words fit is laid out once, for its frame.
  for (const label of stale) {
    const key = label.parentElement!;
    if (key.style.fontSize) key.style.fontSize = '';
    if (label.hidden) label.hidden = false;
  }
  // Measured with the word shown and no size of its own, as a new key is: what it is fitted to is
  // kept under this (`fits`), for the next new key found so.
  const measured = stale.map((label) => {
    const key = label.parentElement!;
    const text = document.createRange();
    text.selectNodeContents(label);
    return { fresh: fitFor(key, label), wordless: text.getBoundingClientRect().width > label.clientWidth + 0.5 || overflows(key) };
  });
  stale.forEach((label, i) => {
    if (measured[i]!.wordless) label.hidden = true;
  });
  const digit = screen.querySelector<HTMLElement>('.key:not(:has(.key__label))');
  for (const label of stale) {
    if (!label.hidden || !digit) continue;
    // The symbol alone: as large as style.css makes it where the key holds that (a wide, low key
    // does not), else smaller, down to the digits' size.
    const key = label.parentElement!;
    const digits = parseFloat(getComputedStyle(digit).fontSize);
    for (let size = parseFloat(getComputedStyle(key).fontSize); size > digits && overflows(key); ) {
      size = Math.max(digits, size - 2);
      key.style.fontSize = `${size}px`;
    }
  }
  stale.forEach((label, i) => {
    const key = label.parentElement!;
    keysFittedFor.set(key, fitFor(key, label));
    fits.set(measured[i]!.fresh, { hidden: label.hidden, fontSize: key.style.fontSize });
  });
}

/**
 * The keys' room, the screen's text and the keys' words fitted. The room is measured first (a new
 * section's reads are then clean), and again when `fitText` changed the text's size, stepping it
 * down or back: that changes the height the keypad gets. The words are fitted to the keys last.
 */
function fitScreen(screen: HTMLElement | null, large: boolean): void {
  if (!screen) return;
  fitRoom(screen);
  const size = screen.style.fontSize;
  fitText(screen, large);
  if (screen.style.fontSize !== size) fitRoom(screen);
  fitKeyWords(screen);
}

/** Per ⌫ and ✓ key, what it was last fitted for (`fitKeyWords`). */
const keysFittedFor = new WeakMap<HTMLElement, string>();
/**
 * What a key was fitted to (its word shown or not, its own font size), by what it reads before
 * fitting: its size, symbol and word, and the word's size (few: the panel's sizes × languages).
 * Sound while a key's box does not depend on its word being shown (the keypad's grid sizes the
 * keys; style.css) and its symbol's size follows from its width.
 */
const fits = new Map<string, { hidden: boolean; fontSize: string }>();

/** A loudspeaker sending sound, in the text's colour and size (decorative: the button's word names it). */
function SpeakerIcon() {
  return (
    <svg class="tool__icon" viewBox="0 0 20 16" aria-hidden="true" focusable="false">
      <path d="M1 5h4l5-4v14l-5-4H1z" fill="currentColor" />
      <path d="M13 4.5a5 5 0 0 1 0 7M15.5 2a8.5 8.5 0 0 1 0 12" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
    </svg>
  );
}

function Entry({ screen, entry, t }: { screen: Screen; entry: string; t: Translate }) {
  let shown = entry;
  if (screen === 'pin') shown = '●'.repeat(entry.length);
  if (screen === 'birthDate') {
    const padded = entry.padEnd(8, '_');
    shown = `${padded.slice(0, 2)}.${padded.slice(2, 4)}.${padded.slice(4, 8)}`;
  }
  if (screen === 'phone' || screen === 'lostSms') shown = entry.replace(/(\d{4})(?=\d)/, '$1 ');
  return (
    <div class="entry">
      <div class="entry__value" aria-hidden="true" dir="ltr">
        {shown || '\u00a0'}
      </div>
      <p class="entry__count" aria-live="polite">
        {t('entry.count', { count: entry.length })}
      </p>
    </div>
  );
}

function Keypad({ panel, t }: { panel: Panel; t: Translate }) {
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
  return (
    <div class="keypad" dir="ltr">
      {keys.map((k) => (
        <button type="button" key={k} class={k === '5' ? 'key key--mark' : 'key'} onClick={() => panel.digit(k)}>
          {k}
        </button>
      ))}
      <button type="button" class="key key--back" aria-label={t('button.delete')} onClick={() => panel.back()}>
        ⌫ <span class="key__label">{t('button.delete')}</span>
      </button>
      <button type="button" class="key" onClick={() => panel.digit('0')}>
        0
      </button>
      <button type="button" class="key key--ok" aria-label={t('button.continue')} onClick={() => panel.confirm()}>
        ✓ <span class="key__label">{t('button.continue')}</span>
      </button>
    </div>
  );
}

function App({ panel }: { panel: Panel }) {
  const [, setVersion] = useState(0);
  const [, setTick] = useState(0);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const screenRef = useRef<HTMLElement>(null);
  const s = panel.state;
  const lang = languageOf(s.lang);
  const t = translator(s.lang, TIME_ZONE);
  const screen = screenOf(s);
  const texts = screenTexts(panel, s, t);
  const warning = panel.warningSeconds();

  panel.screenText = () => {
    const tr = translator(panel.state.lang, TIME_ZONE);
    const now = screenTexts(panel, panel.state, tr);
    const w = panel.warningSeconds();
    const parts = [now.heading, now.error, ...now.lines, now.aside, w > 0 ? tr(panel.canExtend() ? 'timeout.warning' : 'timeout.final', { seconds: w }) : null].filter(Boolean) as string[];
    const ses = panel.state.session;
    return {
      key: [screenOf(panel.state), panel.state.lang, ses?.error ?? '', ses?.compartmentId ?? '', ses?.warning ? `w${ses.extensionsLeft}` : '', panel.state.notice?.code ?? ''].join('|'),
      text: parts.join(' '),
      tag: languageOf(panel.state.lang).tag,
    };
  };
  panel.say = (key: MessageKey, values?: Record<string, string | number>) => ({ text: translator(panel.state.lang, TIME_ZONE)(key, values), tag: languageOf(panel.state.lang).tag });

  useEffect(() => panel.listen(() => setVersion((v) => v + 1)), [panel]);
  // Countdowns tick once a second.
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 1_000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    const down = (event: KeyboardEvent) => keyAction(panel, event, 'down');
    const up = (event: KeyboardEvent) => keyAction(panel, event, 'up');
    document.addEventListener('keydown', down);
    document.addEventListener('keyup', up);
    return () => {
      document.removeEventListener('keydown', down);
      document.removeEventListener('keyup', up);
    };
  }, [panel]);
  // The document speaks the screen's language and direction; focus starts at the new screen's heading.
  useLayoutEffect(() => {
    document.documentElement.lang = lang.tag;
    document.documentElement.dir = lang.dir;
    document.title = t('app.title');
  }, [s.lang]);
  // When what the screen says or its text size changed (a countdown's tick included), and when the
  // panel turns: the text fits. The clock re-renders every second; a render that changed neither
  // measures nothing.
  const fittedFor = useRef('');
  useLayoutEffect(() => {
    const screen = screenRef.current;
    const shown = `${s.largeText}|${screen?.textContent ?? ''}`;
    if (shown === fittedFor.current) return;
    fittedFor.current = shown;
    fitScreen(screen, s.largeText);
  });
  const large = useRef(s.largeText);
  large.current = s.largeText;
  useEffect(() => {
    const screen = screenRef.current;
    if (!screen) return;
    // Fitting changes the text, not the screen's own box: no loop.
    const turned = new ResizeObserver(() => fitScreen(screen, large.current));
    turned.observe(screen);
    return () => turned.disconnect();
  }, []);
  // A new language re-reads the screen from the top, so focus returns to the heading as well.
  useLayoutEffect(() => {
    headingRef.current?.focus();
  }, [screen, s.lang]);

  // While a countdown runs (the time warning, a throttled number's wait), it takes the instructions' place.
  const counting = warning > 0 || panel.throttledSeconds() > 0;
  const digits = screen === 'phone' || screen === 'lostSms' || screen === 'pin' || screen === 'birthDate';
  // Out of order the box cannot be reached: there is nothing to cancel and no key to explain.
  const reachable = screen !== 'outOfOrder';
  const canCancel = reachable && s.session && !['opening', 'shredding', 'done'].includes(s.session.step);
  const front = s.facts?.front ?? [];

  return (
    <div class={`panel${s.largeText ? ' panel--large' : ''}`} data-screen={screen}>
      <header class="bar">
        <nav class="langs" aria-label={t('lang.label')}>
          {LANGUAGES.map((l) => (
            <button type="button" key={l.id} lang={l.tag} dir={l.dir} class="lang" aria-pressed={l.id === s.lang} onClick={() => {
                panel.setLanguage(l.id);
                headingRef.current?.focus();
              }}>
              {l.name}
            </button>
          ))}
        </nav>
        <div class="tools">
          <button type="button" class="tool" aria-pressed={s.largeText} onClick={() => panel.toggleLargeText()}>
            {t('button.largeText')}
          </button>
          {/* On, its ✓ takes the speaker's place: upright, − and + then still fit the bar's third row in every language. The speaker is drawn, not an emoji: a panel without an emoji font showed an empty box. */}
          <button type="button" class="tool" aria-pressed={s.speech} onClick={() => panel.setSpeech(!s.speech)}>
            {s.speech ? null : <SpeakerIcon />}
            {t('button.speech')}
          </button>
          {/* Beside the speech button − and + say enough: their words would cost the bar a row (the keypad's height); the names keep them. */}
          {s.speech ? (
            <>
              <button type="button" class="tool" aria-label={`− ${t('button.quieter')}`} onClick={() => panel.volume(-1)}>
                −
              </button>
              <button type="button" class="tool" aria-label={`+ ${t('button.louder')}`} onClick={() => panel.volume(+1)}>
                +
              </button>
            </>
          ) : null}
        </div>
      </header>
      <main class="screen" ref={screenRef}>
        <h1 ref={headingRef} tabIndex={-1} class={texts.message ? 'heading--message' : undefined}>
          {texts.heading}
        </h1>
        {texts.error ? (
          <div class="alert" role="alert">
            <strong>⚠ {t('error.label')}:</strong> {texts.error}
          </div>
        ) : null}
        {/* While a countdown runs (the time warning, a throttled number's wait), it takes the instructions' place: the whole screen, keypad and footer included, fits the panel upright and on its side in large text. Speech still says every line. Anything else too long steps its text down (`fitText`). */}
        {counting ? null : texts.lines.map((line) => <p key={line}>{line}</p>)}
        {warning > 0 ? (
          <div class="alert alert--time" role="alert">
            <p>⏱ {t(panel.canExtend() ? 'timeout.warning' : 'timeout.final', { seconds: warning })}</p>
            {panel.canExtend() ? (
              <button type="button" class="action action--primary" onClick={() => panel.extend()}>
                {t('timeout.extend')}
              </button>
            ) : null}
          </div>
        ) : null}
        {screen === 'opening' && s.session?.compartmentId ? <BoxFront slots={front} highlight={s.session.compartmentId} label={t('opening.picture', { id: s.session.compartmentId })} /> : null}
        {digits ? (
          <section class="input" aria-label={t('entry.label')}>
            <Entry screen={screen} entry={s.entry} t={t} />
            <Keypad panel={panel} t={t} />
            {/* After the keypad: where the screen is narrow it goes below the keys, never pushes them down. */}
            {screen === 'phone' ? (
              <button type="button" class="action action--choice action--aside" onClick={() => panel.noSms()}>
                ✉ {t('phone.noSms')}
              </button>
            ) : null}
            {texts.aside && !counting ? <p class="aside">{texts.aside}</p> : null}
          </section>
        ) : null}
        {screen === 'factor' ? (
          <div class="choices">
            {s.session?.oldIdPossible ? (
              <button type="button" class="action action--choice" onClick={() => panel.chooseFactor('OLD_ID')}>
                ▭ {t('factor.oldId')}
              </button>
            ) : null}
            <button type="button" class="action action--choice" onClick={() => panel.chooseFactor('BIRTH_DATE')}>
              ✎ {t('factor.birthDate')}
            </button>
          </div>
        ) : null}
        {screen === 'start' || screen === 'closed' || screen === 'busy' ? (
          <button type="button" class="action action--primary" onClick={() => void panel.start()}>
            {t('start.button')}
          </button>
        ) : null}
        {screen === 'done' ? (
          <button type="button" class="action action--primary" onClick={() => panel.cleanSlate()}>
            {t('done.again')}
          </button>
        ) : null}
      </main>
      <footer class="bar bar--bottom">
        {canCancel ? (
          <button type="button" class="action action--cancel" onClick={() => panel.cancel()}>
            ✕ {t('button.cancel')}
          </button>
        ) : (
          <span />
        )}
        {reachable ? <p class="hint">{t('keys.hint')}</p> : null}
        <button type="button" class="action action--help" onClick={() => panel.repeat()}>
          ? {t('button.help')}
        </button>
      </footer>
    </div>
  );
}

mount((data) => {
  const panel = new Panel(data.bound !== 'false');
  panel.connect();
  return <App panel={panel} />;
});
