import * as assert from 'uvu/assert';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { HARNESS, start, type Engine, type Running } from '../api/support.js';
import { ensureWebBuilt, launchChromium } from '../support/browser.js';
import type { ServerOptions } from '../../src/server/index.js';
import type { TestBox } from '../helpers.js';
import { LANGUAGES, type LanguageId } from '../../web/kiosk/messages.js';

// What the kiosk browser suites share: a box serving the panel to 127.0.0.1, one Chromium whose
// speech is logged, and axe with the tags of the accessibility bar.

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export interface KioskCtx {
  server?: Running;
  browser?: Browser;
  context?: BrowserContext;
  page?: Page;
  spoken?: Array<{ text: string; lang: string; private: boolean }>;
}

/**
 * Starts the box and the browser; `viewport` as a panel's screen; `makeBox` for a box of the
 * suite's own (the first call starts the server). The pages are built first: the server reads
 * their persisted documents when it starts.
 */
export async function openKiosk(ctx: KioskCtx, engine: Engine = 'yoga', viewport = { width: 1280, height: 1024 }, options: Partial<ServerOptions> = {}, makeBox?: () => Promise<TestBox>): Promise<Page> {
  await ensureWebBuilt();
  ctx.server ??= await start(engine, { kioskClients: { '1': ['127.0.0.1'] }, ...options }, makeBox);
  ctx.browser ??= await launchChromium();
  ctx.context = await ctx.browser.newContext({ viewport });
  ctx.spoken = [];
  await ctx.context.exposeFunction('__spoken', (d: { text: string; lang: string; private: boolean }) => ctx.spoken!.push(d));
  await ctx.context.addInitScript(() => {
    window.addEventListener('kiosk-speech', (e) => (window as unknown as { __spoken: (d: unknown) => void }).__spoken((e as CustomEvent).detail));
  });
  ctx.page = await ctx.context.newPage();
  await ctx.page.goto(ctx.server.base + '/kiosk/1');
  await screenIs(ctx.page, 'start');
  return ctx.page;
}

export async function closeKiosk(ctx: KioskCtx): Promise<void> {
  await ctx.browser?.close();
  await ctx.server?.close();
}

export const screenIs = (page: Page, screen: string) => page.waitForSelector(`.panel[data-screen="${screen}"]`, { timeout: 20_000 });

/** From the start screen to the PIN step with the keys: Enter, the number, Enter. */
export async function toPin(page: Page, phone: string): Promise<void> {
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  await page.keyboard.type(phone);
  await page.keyboard.press('Enter');
  await screenIs(page, 'pin');
}

/** Ends the session with Cancel (unless it has ended already) and leaves its last screen with Enter: the panel is at its start. */
export async function endAtPanel(page: Page): Promise<void> {
  if ((await page.locator('.panel').getAttribute('data-screen')) !== 'done') {
    await page.keyboard.press('Escape');
    await screenIs(page, 'done');
  }
  await page.keyboard.press('Enter');
  await screenIs(page, 'start');
}

/** Moves the box's simulated clock through the harness API, as a test operator would. */
export async function advanceClock(server: Running, ms: number): Promise<void> {
  const r = await server.gql(`mutation($ms: Int!) { advanceClock(ms: $ms) }`, { ms }, HARNESS);
  assert.is(r.errors, undefined, JSON.stringify(r.errors));
}

const SHOTS = process.env.KIOSK_SCREENSHOTS === '1' ? new URL('../../docs/kiosk/', import.meta.url).pathname : null;

/**
 * With KIOSK_SCREENSHOTS=1, the screen as it is now goes to docs/kiosk/<name>.png; a German one
 * (`de-…`) is also shown in Arabic, right to left, as `ar-…`, and the page goes back to German.
 * Without screenshots nothing is switched, so normal runs cost nothing more.
 */
export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await page.screenshot({ path: `${SHOTS}${name}.png` });
  if (!name.startsWith('de-')) return;
  const screen = await page.locator('.panel').getAttribute('data-screen');
  await inLanguage(page, 'ar');
  assert.is(await page.evaluate(() => document.documentElement.dir), 'rtl', 'Arabic reads right to left');
  assert.is(await page.locator('.panel').getAttribute('data-screen'), screen, 'the language changed, not the screen');
  await page.screenshot({ path: `${SHOTS}ar-${name.slice(3)}.png` });
  await inLanguage(page, 'de');
}

/** Switches the page's language with its own button, as a citizen would, and waits for it. */
export async function inLanguage(page: Page, lang: LanguageId): Promise<void> {
  const language = LANGUAGES.find((l) => l.id === lang)!;
  // By its text: the accessible name of the pressed one starts with its ✓.
  const button = page.locator('.langs button').filter({ hasText: new RegExp(`^${language.name}$`) });
  await button.click();
  await page.waitForFunction((tag) => document.documentElement.lang === tag, language.tag);
  await page.locator('.langs button[aria-pressed="true"]').filter({ hasText: new RegExp(`^${language.name}$`) }).waitFor();
}

/** axe violations on the page as it is now, as `rule: targets` lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(AXE_TAGS).options({ resultTypes: ['violations'] }).analyze();
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Whether the whole page, footer included, fits the viewport without scrolling. */
export const fitsViewport = (page: Page) => page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight);

/** The panel's screen sizes: a 1280×1024 panel on its side and upright. */
export const LANDSCAPE = { width: 1280, height: 1024 };
export const PORTRAIT = { width: 800, height: 1280 };

/**
 * The controls of the page a citizen cannot reach as it stands, with the page at its top: every
 * button and input must lie wholly inside the viewport and be the thing a finger on its middle
 * touches (not covered by another element, not clipped inside a scrolled box); and no text may
 * need scrolling either. One line each: the control's text and where it is.
 */
export function unreachableControls(page: Page): Promise<string[]> {
  // Every screen shows at least the language buttons, large text, speech and Help: fewer checked means the check missed them.
  return page.evaluate(async (least) => {
    // A frame for the page to lay itself out after a turn or a switch, as a real screen gets.
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    window.scrollTo(0, 0);
    const width = window.innerWidth;
    const height = window.innerHeight;
    const found: string[] = [];
    let checked = 0;
    for (const control of document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [role="button"]')) {
      const box = control.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      checked++;
      const name = `"${(control.getAttribute('aria-label') ?? control.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 30)}"`;
      const where = `${Math.round(box.left)},${Math.round(box.top)}–${Math.round(box.right)},${Math.round(box.bottom)}`;
      // half a pixel for sub-pixel layout
      if (box.left < -0.5 || box.top < -0.5 || box.right > width + 0.5 || box.bottom > height + 0.5) {
        found.push(`${name} at ${where}, outside ${width}×${height}`);
        continue;
      }
      const touched = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      if (!touched || !control.contains(touched)) found.push(`${name} at ${where}, covered by <${touched?.tagName.toLowerCase() ?? 'nothing'} class="${touched?.getAttribute('class') ?? ''}">`);
    }
    // Nor may a button lie over a paragraph of the screen (keys squeezed onto the text below them).
    for (const paragraph of document.querySelectorAll<HTMLElement>('main p')) {
      const text = paragraph.getBoundingClientRect();
      for (const button of document.querySelectorAll<HTMLElement>('main button')) {
        if (button.contains(paragraph) || paragraph.contains(button)) continue;
        const box = button.getBoundingClientRect();
        if (box.left < text.right - 0.5 && text.left < box.right - 0.5 && box.top < text.bottom - 0.5 && text.top < box.bottom - 0.5) {
          found.push(`"${(button.textContent ?? '').trim().slice(0, 20)}" covers the text "${(paragraph.textContent ?? '').trim().slice(0, 30)}"`);
        }
      }
    }
    // Nor may any text hide below the fold: neither the page nor the screen between the bars scrolls.
    const page = document.documentElement;
    if (page.scrollHeight > height) found.push(`the page scrolls: ${page.scrollHeight} px in ${height}`);
    const screen = document.querySelector('main');
    if (screen && screen.scrollHeight > screen.clientHeight) found.push(`the screen scrolls: ${screen.scrollHeight} px in ${screen.clientHeight}`);
    if (!screen) found.push('no screen (<main>) to check');
    if (checked < least) found.push(`only ${checked} controls shown, at least ${least} expected`);
    return found;
  }, LANGUAGES.length + 3);
}

/** Switches large text on or off with the panel's own button (when it is not so already). */
export async function largeText(page: Page, on: boolean): Promise<void> {
  if ((await page.locator('.panel.panel--large').count()) > 0 === on) return;
  await page.locator('header button.tool[aria-pressed]').first().click();
  await page.waitForSelector(on ? '.panel.panel--large' : '.panel:not(.panel--large)');
}

/** Switches speech on or off with the panel's own button (when it is not so already): on, the top bar also shows − and +. */
export async function speech(page: Page, on: boolean): Promise<void> {
  const button = page.locator('header button.tool[aria-pressed]').nth(1);
  if (((await button.getAttribute('aria-pressed')) === 'true') === on) return;
  await button.click();
  await page.waitForFunction((want) => (document.querySelectorAll('header button.tool').length > 2) === want, on);
}

/**
 * The size in px of the screen's text (between the bars) in large text on the upright panel, in
 * `lang`; the page returns to landscape, normal text, German, focus on the heading.
 */
export async function largeTextUpright(page: Page, lang: LanguageId): Promise<number> {
  await page.setViewportSize(PORTRAIT);
  await largeText(page, true);
  await inLanguage(page, lang);
  const size = await page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    return parseFloat(getComputedStyle(document.querySelector('main')!).fontSize);
  });
  await largeText(page, false);
  await page.setViewportSize(LANDSCAPE);
  await inLanguage(page, 'de');
  await page.locator('h1').focus();
  return size;
}

/**
 * Runs `check` in each orientation (landscape, portrait) × text size (normal, large) × each of
 * `languages`, switched with the page's own buttons; `where` names the layout ("ar portrait
 * large"). The page returns to landscape, normal text, the language it showed, focus on the heading.
 */
export async function eachLayout(page: Page, languages: readonly LanguageId[], check: (where: string) => Promise<void>): Promise<void> {
  const shown = await page.locator('.langs button[aria-pressed="true"]').getAttribute('lang');
  const pressed = (await page.locator('.langs button[aria-pressed="true"]').textContent())?.trim();
  const start = LANGUAGES.find((l) => l.name === pressed && l.tag === shown)!.id;
  for (const [orientation, viewport] of [['landscape', LANDSCAPE], ['portrait', PORTRAIT]] as const) {
    await page.setViewportSize(viewport);
    for (const big of [false, true]) {
      await largeText(page, big);
      for (const lang of languages) {
        await inLanguage(page, lang);
        await check(`${lang} ${orientation}${big ? ' large' : ''}`);
      }
    }
  }
  await largeText(page, false);
  await page.setViewportSize(LANDSCAPE);
  await inLanguage(page, start);
  // The keypad's Enter must reach the screen again, not the last button pressed.
  await page.locator('h1').focus();
}

/**
 * `unreachableControls` and `unreadableKeyWords` in every layout (`eachLayout`): what a citizen
 * cannot reach or cannot read. One line per problem, prefixed with where it was seen.
 */
export async function unreachableEverywhere(page: Page, languages: readonly LanguageId[]): Promise<string[]> {
  const found: string[] = [];
  await eachLayout(page, languages, async (where) => {
    found.push(...(await unreachableControls(page)).map((line) => `${where}: ${line}`));
    found.push(...(await unreadableKeyWords(page)).map((line) => `${where}: ${line}`));
  });
  return found;
}

/**
 * The words under ⌫ and ✓ on the keypad as it is now, against the panel's text floor: a word shown
 * must read at the floor at least and lie whole in its key; a word may be left off only where at
 * the floor it would not fit its key (tried by showing it for a moment), and then its symbol reads
 * at least as large as the digits and lies whole in the key. Shown or not, the key's accessible name is its word. One line
 * per problem; none without a keypad.
 */
export function unreadableKeyWords(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const keypad = document.querySelector<HTMLElement>('.keypad');
    if (!keypad) return [];
    const floor = parseFloat(getComputedStyle(document.body).fontSize);
    const digitSize = parseFloat(getComputedStyle(keypad.querySelector('.key')!).fontSize);
    const found: string[] = [];
    const labels = [...keypad.querySelectorAll<HTMLElement>('.key__label')];
    if (labels.length !== 2) found.push(`${labels.length} key words found, not those of ⌫ and ✓`);
    for (const label of labels) {
      const key = label.parentElement!;
      const word = (label.textContent ?? '').trim();
      const box = key.getBoundingClientRect();
      const size = `key ${Math.round(box.width)}×${Math.round(box.height)}`;
      const text = document.createRange();
      text.selectNodeContents(label);
      // (No named functions in here: the test's build would wrap them in a helper the page lacks.)
      // Without an aria-label the name is the text shown: a word left off (display: none) is not in it.
      const name = key.getAttribute('aria-label') ?? key.innerText.trim();
      if (!name.includes(word) || word === '') found.push(`the key "${(key.textContent ?? '').trim()}" is named "${name}", not by its word "${word}"`);
      if (label.getClientRects().length > 0) {
        const px = parseFloat(getComputedStyle(label).fontSize);
        if (px < floor) found.push(`"${word}" at ${px} px, under the ${floor} px floor (${size})`);
        if (!(text.getBoundingClientRect().width <= label.clientWidth + 0.5 && key.scrollHeight <= key.clientHeight + 0.5)) found.push(`"${word}" cut off at ${px} px (${size})`);
        continue;
      }
      // Left off: show it at the floor for a moment to see whether it would have fitted.
      const hidden = label.hidden;
      const inline = label.style.cssText;
      label.hidden = false;
      label.style.cssText = `display: block; font-size: ${floor}px`;
      const wouldFit = text.getBoundingClientRect().width <= label.clientWidth + 0.5 && key.scrollHeight <= key.clientHeight + 0.5;
      label.hidden = hidden;
      label.style.cssText = inline;
      if (wouldFit) found.push(`"${word}" left off though it fits its key at the floor (${size})`);
      const symbolPx = parseFloat(getComputedStyle(key).fontSize);
      if (symbolPx < digitSize) found.push(`the key without "${word}" shows its symbol at ${symbolPx} px, smaller than the digits' ${digitSize} px`);
      if (key.scrollWidth > key.clientWidth + 0.5 || key.scrollHeight > key.clientHeight + 0.5) found.push(`the symbol of the key without "${word}" overflows it at ${symbolPx} px (${size})`);
    }
    return found;
  });
}

/**
 * axe on the screen as it is, in large text, in portrait and both: no violation anywhere. And in
 * each of these, in every language, with speech off and on, every control is on the screen without
 * scrolling. Screenshots (`shot`) named `de-error-<name>[-variant]`.
 */
export async function checkEverywhere(page: Page, name: string): Promise<void> {
  const screen = await page.locator('.panel').getAttribute('data-screen');
  const found: string[] = [];
  // Upright in normal text too where the keypad shows: its keys take the height the screen leaves.
  const keypad = (await page.locator('.keypad').count()) > 0;
  const look = async (variant: string) => {
    found.push(...(await axeViolations(page)).map((v) => `${name} ${variant}: ${v}`));
    if (variant === 'landscape' || variant === 'portrait-large' || (variant === 'portrait' && keypad)) await shot(page, `de-error-${name}${variant === 'landscape' ? '' : `-${variant}`}`);
  };
  await look('landscape');
  await largeText(page, true);
  await look('large');
  await page.setViewportSize(PORTRAIT);
  await look('portrait-large');
  await largeText(page, false);
  await look('portrait');
  await page.setViewportSize(LANDSCAPE);
  found.push(...(await unreachableEverywhere(page, LANGUAGES.map((l) => l.id))));
  // With speech on, − and + join the top bar: still everything within reach.
  await speech(page, true);
  found.push(...(await unreachableEverywhere(page, LANGUAGES.map((l) => l.id))).map((line) => `speech on, ${line}`));
  await speech(page, false);
  await page.locator('h1').focus();
  assert.equal(found, []);
  assert.is(await page.locator('.panel').getAttribute('data-screen'), screen, 'every look was at the same screen');
}

/**
 * Where the birth date's example "12 04 1980" stands on the screen as it is now: each digit group's
 * box (left, top), in the order the groups are written; null when no text on the screen has it.
 */
export function exampleGroups(page: Page): Promise<Array<{ group: string; left: number; top: number }> | null> {
  return page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const walker = document.createTreeWalker(document.querySelector('main')!, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // Between the groups anything but a digit: spaces, no-break spaces, direction marks.
      const match = /(12)\D{1,4}(04)\D{1,4}(1980)/u.exec(node.textContent ?? '');
      if (!match) continue;
      const groups: Array<{ group: string; left: number; top: number }> = [];
      let from = match.index;
      for (const group of match.slice(1)) {
        const at = node.textContent!.indexOf(group, from);
        from = at + group.length;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + group.length);
        const box = range.getBoundingClientRect();
        groups.push({ group, left: box.left, top: box.top });
      }
      return groups;
    }
    return null;
  });
}

/**
 * The footer's key legend as it is now: its text size and the panel's text floor (the body's size,
 * style.css `--body`), whether it shows, and whether all of it is inside its box and the viewport.
 */
export function keyHint(page: Page): Promise<{ shown: boolean; px: number; floor: number; whole: boolean }> {
  return page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const hint = document.querySelector<HTMLElement>('footer .hint');
    const floor = parseFloat(getComputedStyle(document.body).fontSize);
    if (!hint || hint.getClientRects().length === 0) return { shown: false, px: 0, floor, whole: true };
    const box = hint.getBoundingClientRect();
    const whole = hint.scrollHeight <= hint.clientHeight + 0.5 && hint.scrollWidth <= hint.clientWidth + 0.5 && box.top >= 0 && box.bottom <= window.innerHeight + 0.5;
    return { shown: true, px: parseFloat(getComputedStyle(hint).fontSize), floor, whole };
  });
}

/**
 * The on-screen keypad as laid out now: the height left unused between its last row and the
 * bottom of the screen's content box, one key's size, and how far the room the keys were sized
 * for (style.css `--room-w`/`--room-h`, as the page measured the section) is from the section's
 * size now, in px (a height from the viewport is not compared); null without a keypad.
 */
export function keypadLayout(page: Page): Promise<{ unusedBelow: number; keyWidth: number; keyHeight: number; entryLines: number; roomOff: number } | null> {
  return page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const keypad = document.querySelector('.keypad');
    const screen = document.querySelector('main');
    if (!keypad || !screen) return null;
    const style = getComputedStyle(screen);
    const contentBottom = screen.getBoundingClientRect().bottom - parseFloat(style.paddingBottom) - parseFloat(style.borderBottomWidth);
    const keys = [...keypad.querySelectorAll('.key')].map((k) => k.getBoundingClientRect());
    const lowest = Math.max(...keys.map((k) => k.bottom));
    // How many lines what is typed takes in the entry beside the keypad.
    const range = document.createRange();
    range.selectNodeContents(document.querySelector('.entry__value')!);
    const entryLines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    // The section has no padding or border (style.css): its box is its content box.
    const input = document.querySelector('.input')!;
    const box = input.getBoundingClientRect();
    const room = getComputedStyle(input);
    // (No named function in here: the TypeScript loader would wrap it with a helper the page lacks.)
    const roomOff = Math.max(
      ...[[room.getPropertyValue('--room-w'), box.width] as const, [room.getPropertyValue('--room-h'), box.height] as const].map(([value, actual]) =>
        value.trim().endsWith('px') ? Math.abs(parseFloat(value) - actual) : 0,
      ),
    );
    return { unusedBelow: contentBottom - lowest, keyWidth: keys[0]!.width, keyHeight: keys[0]!.height, entryLines, roomOff };
  });
}

/**
 * The texts that once read under the panel's floor, as they are now: the top bar's buttons and the
 * count under the entry (size, and whether each is whole); and the words the keypad's ⌫ and ✓ show
 * (`unreadableKeyWords` checks them).
 */
export function floorTexts(page: Page): Promise<{
  floor: number;
  bar: Array<{ text: string; px: number; whole: boolean }>;
  count: { px: number; whole: boolean } | null;
  words: string[];
}> {
  return page.evaluate(async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const floor = parseFloat(getComputedStyle(document.body).fontSize);
    const bar = [...document.querySelectorAll<HTMLElement>('header button')].map((b) => ({
      text: (b.textContent ?? '').trim(),
      px: parseFloat(getComputedStyle(b).fontSize),
      whole: b.scrollWidth <= b.clientWidth + 0.5 && b.scrollHeight <= b.clientHeight + 0.5,
    }));
    const counter = document.querySelector<HTMLElement>('.entry__count');
    const count = counter ? { px: parseFloat(getComputedStyle(counter).fontSize), whole: counter.scrollWidth <= counter.clientWidth + 0.5 } : null;
    const words = [...document.querySelectorAll<HTMLElement>('.key__label')].filter((l) => l.getClientRects().length > 0).map((l) => (l.textContent ?? '').trim());
    return { floor, bar, count, words };
  });
}

/**
 * Where the comma-separated parts of `text` (the box's address, say) stand on the screen as it is
 * now: for each part, in the order written, how many lines it takes and its first box (left, top).
 * Spaces, no-break spaces and invisible format characters (isolates, word joiners) between the
 * letters all count as the text's own; null when no text on the screen has it.
 */
export function partsOnScreen(page: Page, text: string): Promise<Array<{ part: string; lines: number; left: number; top: number }> | null> {
  return page.evaluate(async (wanted) => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const walker = document.createTreeWalker(document.querySelector('main')!, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const raw = node.textContent ?? '';
      // The node's text without format characters, no-break spaces as spaces, and where each character came from.
      let plain = '';
      const from: number[] = [];
      for (let i = 0; i < raw.length; i++) {
        if (/[\u2060\u2066-\u2069\u200e\u200f]/u.test(raw[i]!)) continue;
        plain += raw[i] === '\u00a0' ? ' ' : raw[i];
        from.push(i);
      }
      const at = plain.indexOf(wanted);
      if (at < 0) continue;
      const parts: Array<{ part: string; lines: number; left: number; top: number }> = [];
      let offset = at;
      for (const part of wanted.split(', ')) {
        const range = document.createRange();
        range.setStart(node, from[offset]!);
        range.setEnd(node, from[offset + part.length - 1]! + 1);
        const boxes = [...range.getClientRects()].filter((r) => r.width > 0);
        parts.push({ part, lines: new Set(boxes.map((r) => Math.round(r.top))).size, left: boxes[0]!.left, top: boxes[0]!.top });
        offset += part.length + 2;
      }
      return parts;
    }
    return null;
  }, text);
}
