import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { TOKENS } from '../api/support.js';
import { readyPickup, testBox, type TestBox } from '../helpers.js';
import { BROWSER } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { createYogaServer } from '../../src/server/index.js';
import { boxText, translator } from '../../web/kiosk/i18n.js';
import { LANGUAGES } from '../../web/kiosk/messages.js';
import { checkEverywhere, closeKiosk, eachLayout, endAtPanel, exampleGroups, fitsViewport, floorTexts, inLanguage, keyHint, keypadLayout, LANDSCAPE, largeText, largeTextUpright, openKiosk, partsOnScreen, PORTRAIT, screenIs, toPin, unreachableEverywhere, type KioskCtx } from './kiosk-page.js';
import { until } from './until.js';

// The panel's error screens in Chromium: throttled with a live countdown, locked (with the
// counter's hours), box closed (next opening), reader failure → birth date, and the box restarted
// mid-session (the page recovers by itself and says what happened). Each screen gets axe in
// normal and large text, in landscape and in portrait. Screenshots with KIOSK_SCREENSHOTS=1.

interface Ctx extends KioskCtx {
  /** the box and server after a restart, on the same port */
  restarted?: { t: TestBox; close(): Promise<void> };
}
const test = suiteNeeding<Ctx>('kiosk error screens', BROWSER, {});
test.after(async (ctx) => {
  await closeKiosk(ctx);
  await ctx.restarted?.close();
});

const t = translator('de', 'Europe/Berlin');

const alertText = (page: Page) => page.locator('.alert[role="alert"]').first().textContent();
const secondsIn = (text: string | null) => Number(/(\d+) Sekunde/.exec(text ?? '')?.[1]);

/** A fresh READY pickup, its number and PIN typed, and the factor chosen by its key ('1' card, '2' birth date). */
async function toFactor(page: Page, server: TestBox, reference: string, key: '1' | '2', screen: 'card' | 'birthDate'): Promise<void> {
  const { pin } = await readyPickup(server, reference);
  await toPin(page, '015228817386');
  await page.keyboard.type(pin);
  await page.keyboard.press('Enter');
  await screenIs(page, 'factor');
  await page.keyboard.press(key);
  await screenIs(page, screen);
}

/**
 * The first wait a number's wrong PINs set, in this suite (the box's default is 30 s): the page
 * counts it down in real time, and every look at the throttled screen (axe in four layouts, large
 * text upright) must see it still running, also on a busy machine where they take over 30 s.
 */
const WAIT_S = 300;

test('throttled: the error and a countdown to retryAt that runs by itself', async (ctx) => {
  const page = await openKiosk(ctx, 'yoga', undefined, {}, () => testBox({ kiosks: ['1', '2'], throttle: { baseMs: WAIT_S * 1000 } }));
  const server = ctx.server!;
  // Four wrong PINs for a number in earlier sessions: the fourth sets a wait of WAIT_S on it.
  for (let i = 0; i < 4; i++) {
    const { sessionId } = await server.box.startSession('1');
    await server.box.idle();
    await server.box.sessionInput(sessionId, { type: 'phone', phone: '+4915228817390' });
    await server.box.sessionInput(sessionId, { type: 'pin', pin: '123456' });
    if (server.box.session(sessionId)?.step !== 'done') await server.box.sessionInput(sessionId, { type: 'cancel' });
    await server.box.advance(6_000);
  }
  await toPin(page, '015228817390');
  await page.keyboard.type('123456');
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  assert.match((await alertText(page))!, t('error.AUTH_THROTTLED'));
  // The page takes the box's clock afresh when a countdown starts; until that answer is in, it
  // counts from the clock it had (the simulated clock jumped 24 s since), so wait for the fresh one.
  await until(async () => {
    const s = secondsIn(await alertText(page));
    return s > 0 && s <= WAIT_S;
  }, 'a countdown from the box clock of now, at most the wait');
  const before = secondsIn(await alertText(page));
  await until(async () => secondsIn(await alertText(page)) <= before - 2, 'the countdown runs by itself');
  assert.ok(await fitsViewport(page), 'the countdown, keypad and footer fit the 1280×1024 panel');
  await checkEverywhere(page, 'throttled');
  assert.is(await largeTextUpright(page, 'de'), 46, 'large text stays whole upright: alert, keypad and footer fit at 46 px');
  assert.ok(secondsIn(await alertText(page)) > 0, 'every look was at the throttled screen: its countdown still runs');
  // While it runs, Enter sends nothing.
  await page.keyboard.type('015228817390');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.is(await page.locator('.panel').getAttribute('data-screen'), 'phone');
  await endAtPanel(page);
  // The number's and the panel's buckets leak empty within 40 minutes: the next citizen starts clean.
  await server.box.advance(45 * 60_000);
});

test('the key legend, the top bar\'s buttons, the digit count and the words on ⌫ and ✓ read at the panel\'s text floor, all whole, in every language and orientation; a word too long for its key at the floor is left off, its symbol as large as a digit and the key named by the word', async (ctx) => {
  const page = ctx.page!;
  await toPin(page, '015228817386');
  const found: string[] = [];
  const words: string[] = [];
  await eachLayout(page, LANGUAGES.map((l) => l.id), async (where) => {
    const texts = await floorTexts(page);
    // The loops below check nothing when they find nothing: the languages, large text and speech.
    if (texts.bar.length < LANGUAGES.length + 2) found.push(`${where}: only ${texts.bar.length} top-bar buttons found`);
    for (const button of texts.bar) {
      if (button.px < texts.floor) found.push(`${where}: "${button.text}" at ${button.px} px, under the ${texts.floor} px floor`);
      if (!button.whole) found.push(`${where}: "${button.text}" cut off`);
    }
    if (!texts.count) found.push(`${where}: no digit count`);
    else {
      if (texts.count.px < texts.floor) found.push(`${where}: digit count at ${texts.count.px} px, under the ${texts.floor} px floor`);
      if (!texts.count.whole) found.push(`${where}: digit count cut off`);
    }
    // The words on ⌫ and ✓: `unreachableEverywhere` below checks them in each of these layouts.
    words.push(`${where}: ${texts.words.join(', ') || '(symbols only)'}`);
    const hint = await keyHint(page);
    // Upright in large text the legend gives way to the screen: the keys' symbols and the tactile keypad say it.
    if (!hint.shown) {
      if (!where.endsWith(' portrait large')) found.push(`${where}: no key legend`);
      return;
    }
    if (hint.px < hint.floor) found.push(`${where}: legend at ${hint.px} px, under the ${hint.floor} px floor`);
    if (!hint.whole) found.push(`${where}: legend cut off`);
  });
  assert.equal(await unreachableEverywhere(page, LANGUAGES.map((l) => l.id)), [], 'with these texts at the floor every control is in reach, and every word on ⌫ and ✓ reads at the floor or is left off for want of room');
  await endAtPanel(page);
  if (process.env.KIOSK_SIZES === '1') console.log(words.join('\n'));
  assert.equal(found, []);
});

test('the keypad\'s keys take the height the screen leaves, and leave a mobile number one line beside them: upright and on its side, in every language', async (ctx) => {
  const page = ctx.page!;
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  await page.keyboard.type('015228817386');
  await page.waitForFunction(() => document.querySelector('.entry__value')?.textContent === '0152 28817386');
  const found: string[] = [];
  const sizes: number[] = [];
  await eachLayout(page, LANGUAGES.map((l) => l.id), async (where) => {
    const keypad = await keypadLayout(page);
    if (!keypad) {
      found.push(`${where}: no keypad`);
      return;
    }
    if (keypad.unusedBelow > 2) found.push(`${where}: ${Math.round(keypad.unusedBelow)} px unused below the keypad (keys ${Math.round(keypad.keyWidth)}×${Math.round(keypad.keyHeight)})`);
    if (keypad.keyWidth < 64 || keypad.keyHeight < 64) found.push(`${where}: keys ${Math.round(keypad.keyWidth)}×${Math.round(keypad.keyHeight)}, under the 64 px target`);
    if (keypad.roomOff > 0.5) found.push(`${where}: keys sized for a section ${keypad.roomOff.toFixed(1)} px off its size now`);
    if (keypad.entryLines !== 1) found.push(`${where}: the number takes ${keypad.entryLines} lines beside keys ${Math.round(keypad.keyWidth)} px wide`);
    if (where.endsWith(' portrait')) sizes.push(keypad.keyHeight);
  });
  // Large text turned off again on its side, where it may have been stepped down to fit: the keys
  // follow the section's new height at once, not at the next digit.
  for (const lang of LANGUAGES.map((l) => l.id)) {
    await inLanguage(page, lang);
    await largeText(page, true);
    await largeText(page, false);
    const keypad = await keypadLayout(page);
    if (keypad && keypad.roomOff > 0.5) found.push(`${lang} landscape, large text off again: keys sized for a section ${keypad.roomOff.toFixed(1)} px off its size now`);
  }
  await inLanguage(page, 'de');
  await endAtPanel(page);
  assert.equal(found, []);
  // Upright in normal text the number's screen leaves room: the keys are higher than the 84 px they used to stop at.
  assert.ok(Math.min(...sizes) > 84, `upright keys ${sizes.map(Math.round).join(', ')} px high`);
});

test('locked after too many wrong answers: go to the counter, with its hours', async (ctx) => {
  const page = ctx.page!;
  const server = ctx.server!;
  await toFactor(page, server, 'V-2026-0801', '2', 'birthDate');
  for (let i = 0; i < 5; i++) {
    await page.keyboard.type('01011990');
    await page.keyboard.press('Enter');
    if (i < 4) await until(async () => (await page.locator('.alert').count()) > 0 && (await page.locator('.entry__value').textContent()) === '__.__.____', `wrong birth date ${i + 1} answered`);
  }
  await screenIs(page, 'done');
  assert.is(await page.locator('h1').textContent(), t('error.PICKUP_LOCKED', { location: boxText(server.box.config.location) }));
  const boxHours = (await server.gql(`{ box { hours } }`, {}, TOKENS.monitor)).data!.box.hours as string;
  const hours = t('closed.hours', { hours: boxText(boxHours) });
  assert.ok((await page.locator('main p').allTextContents()).includes(hours), 'the counter\'s hours are shown');
  // In an Arabic sentence, upright in large text, the German hours read left to right, each day's part on one line.
  await page.setViewportSize(PORTRAIT);
  await largeText(page, true);
  await inLanguage(page, 'ar');
  const parts = await partsOnScreen(page, boxHours);
  await largeText(page, false);
  await page.setViewportSize(LANDSCAPE);
  await inLanguage(page, 'de');
  await page.locator('h1').focus();
  assert.ok(parts && parts.length > 1, 'the hours, in parts, on the Arabic screen');
  assert.equal(parts!.filter((p) => p.lines !== 1).map((p) => p.part), [], 'no part of the hours breaks over lines');
  for (let i = 1; i < parts!.length; i++) assert.ok(parts![i]!.top > parts![i - 1]!.top + 1 || (Math.abs(parts![i]!.top - parts![i - 1]!.top) <= 1 && parts![i]!.left > parts![i - 1]!.left), `"${parts![i]!.part}" follows "${parts![i - 1]!.part}" left to right`);
  assert.is(server.box.pickup('V-2026-0801')!.status, 'LOCKED');
  await checkEverywhere(page, 'locked');
  await endAtPanel(page);
});

test('the card reader fails while waiting for the card: on with the birth date, and why', async (ctx) => {
  const page = ctx.page!;
  const server = ctx.server!;
  await toFactor(page, server, 'V-2026-0802', '1', 'card');
  server.hw.reader.unplug();
  await server.box.idle();
  await screenIs(page, 'birthDate');
  assert.match((await alertText(page))!, t('error.CARD_UNAVAILABLE'));
  await checkEverywhere(page, 'reader');
  server.hw.reader.plug();
  await server.box.idle();
  await endAtPanel(page);
});

test('the birth date\'s example reads 12 04 1980 left to right on one line: every language, upright and on its side, normal and large text', async (ctx) => {
  const page = ctx.page!;
  const server = ctx.server!;
  await toFactor(page, server, 'V-2026-0803', '2', 'birthDate');
  const found: string[] = [];
  await eachLayout(page, LANGUAGES.map((l) => l.id), async (where) => {
    const groups = await exampleGroups(page);
    if (!groups) {
      found.push(`${where}: no example on the screen`);
      return;
    }
    const [day, month, year] = groups;
    // One line: the groups share their top; in the order typed: each right of the one before.
    if (Math.abs(day!.top - month!.top) > 1 || Math.abs(month!.top - year!.top) > 1) found.push(`${where}: the example breaks over lines (tops ${groups.map((g) => Math.round(g.top)).join(', ')})`);
    if (!(day!.left < month!.left && month!.left < year!.left)) found.push(`${where}: the example does not read 12 04 1980 from the left (lefts ${groups.map((g) => Math.round(g.left)).join(', ')})`);
  });
  await endAtPanel(page);
  assert.equal(found, []);
});

test('the box restarts mid-session: out of order meanwhile, then the page recovers and says what happened', async (ctx) => {
  const page = ctx.page!;
  const server = ctx.server!;
  await toPin(page, '015228817386');
  const port = Number(new URL(server.url).port);
  await server.close();
  ctx.server = undefined;
  await screenIs(page, 'outOfOrder');
  assert.is(await page.locator('h1').textContent(), t('outOfOrder.heading'));
  // Nothing to cancel while the box is away, and no key legend: the language, text size, speech and Help stay.
  assert.is(await page.locator('button.action--cancel').count(), 0, 'no Cancel button out of order');
  assert.is(await page.locator('footer .hint').count(), 0, 'no key legend out of order');
  assert.is(await page.locator('footer button.action--help').count(), 1, 'Help still repeats the screen');
  // The Cancel key does nothing either: no cancel waits unseen for the box to come back.
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
  assert.is(await page.locator('.panel').getAttribute('data-screen'), 'outOfOrder');
  await checkEverywhere(page, 'outOfOrder');
  // A new box process on the same address: the session did not survive it.
  const box = await testBox({ kiosks: ['1', '2'] });
  const again = createYogaServer(box.box, { tokens: TOKENS, harness: true, logError: () => {}, kioskClients: { '1': ['127.0.0.1'] } });
  await again.listen(port, '127.0.0.1');
  ctx.restarted = { t: box, close: async () => (await again.close(), await box.box.close()) };
  await screenIs(page, 'start');
  assert.match((await alertText(page))!, t('error.INTERRUPTED'));
  assert.ok((await page.locator('main p').allTextContents()).includes(t('start.keys')), 'beside the alert the start screen still says which keys do what');
  await checkEverywhere(page, 'restarted');
});

test('the box is closed: when it opens next, and its hours', async (ctx) => {
  const page = ctx.page!;
  const box = ctx.restarted!.t;
  // From Monday 10:00 to Sunday noon.
  await box.box.advance(6 * 86_400_000 + 2 * 3_600_000);
  await page.keyboard.press('Enter');
  await screenIs(page, 'closed');
  const next = box.box.nextOpening()!;
  assert.ok((await page.locator('main p').allTextContents()).includes(t('closed.text', { next: new Date(next) })), 'the next opening is shown');
  assert.is(new Date(next).getUTCDay(), 1, 'Monday');
  await checkEverywhere(page, 'closed');
});

test.run();
