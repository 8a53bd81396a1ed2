import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { lastPin, readyPickup } from '../helpers.js';
import { BROWSER } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { boxText, translator } from '../../web/kiosk/i18n.js';
import { LANGUAGES } from '../../web/kiosk/messages.js';
import { axeViolations, closeKiosk, eachLayout, endAtPanel, largeTextUpright, openKiosk, partsOnScreen, screenIs, shot, speech, unreachableEverywhere, type KioskCtx } from './kiosk-page.js';

// "I have not received an SMS" at the panel, keys only: Enter without a number, the number, and
// on to the PIN step with the same words whether or not a pickup waits; the new PIN works, the
// old one does not.

const test = suiteNeeding<KioskCtx>('kiosk lost SMS', BROWSER, {});
test.after(closeKiosk);
const t = translator('de', 'Europe/Berlin');
const ALL = LANGUAGES.map((l) => l.id);
const lines = (ctx: KioskCtx) => ctx.page!.locator('main p').allTextContents();

/**
 * The box's address inside "has your number changed? go to the counter: …" in every language, both
 * orientations and text sizes: left to right in the order written, each part ("Willi-Becker-Allee 7")
 * on one line — in an Arabic sentence too. One line per problem; the page returns as
 * `eachLayout` leaves it.
 */
async function addressReadsWhole(page: Page, address: string): Promise<string[]> {
  const found: string[] = [];
  await eachLayout(page, LANGUAGES.map((l) => l.id), async (where) => {
    const parts = await partsOnScreen(page, address);
    if (!parts) {
      found.push(`${where}: no address on the screen`);
      return;
    }
    for (const [i, part] of parts.entries()) {
      if (part.lines !== 1) found.push(`${where}: "${part.part}" breaks over ${part.lines} lines`);
      const before = parts[i - 1];
      // In the order written: on a later line, or on the same line to the right of the part before.
      if (before && !(part.top > before.top + 1 || (Math.abs(part.top - before.top) <= 1 && part.left > before.left))) found.push(`${where}: "${part.part}" does not follow "${before.part}" left to right`);
    }
  });
  return found;
}

test('no SMS: a new PIN is sent, the old one is refused, the new one leads on', async (ctx) => {
  const page = await openKiosk(ctx);
  const server = ctx.server!;
  const { pin: oldPin } = await readyPickup(server, 'V-2026-0701');
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  assert.ok((await lines(ctx)).includes(t('phone.noSmsKey')), 'the phone screen says how');
  await page.keyboard.press('Enter');
  await screenIs(page, 'lostSms');
  assert.is(await page.locator('h1').textContent(), t('lostSms.heading'));
  assert.equal(await axeViolations(page), [], 'axe on the lost-SMS screen');
  await page.keyboard.type('015228817386');
  await shot(page, 'de-09-lostSms');
  assert.equal(await unreachableEverywhere(page, ALL), [], 'every control of the lost-SMS screen within reach, in every language');
  assert.equal(await addressReadsWhole(page, server.box.config.location), [], 'the office\'s address reads as one left-to-right run');
  // Its long text in Russian, upright, in large text fits only a step smaller: never below the normal size.
  const size = await largeTextUpright(page, 'ru');
  assert.ok(size >= 34 && size <= 46, `large text at ${size} px: between the normal 34 px and the full 46 px`);
  await page.keyboard.press('Enter');
  await screenIs(page, 'pin');
  const resent = t('pin.resent', { location: boxText(server.box.config.location) });
  assert.ok((await lines(ctx)).includes(resent), 'the PIN screen says a new PIN may be on its way');
  assert.equal(await axeViolations(page), [], 'axe on the PIN screen after the request');
  await shot(page, 'de-10-pin-newPinRequested');
  assert.equal(await unreachableEverywhere(page, ['de', 'ar']), [], 'every control of the PIN screen after the request within reach');
  await server.box.idle();
  const newPin = lastPin(server);
  assert.is.not(newPin, oldPin);
  // The old PIN is dead: number or PIN wrong, back to the number.
  await page.keyboard.type(oldPin);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.alert[role="alert"]');
  await screenIs(page, 'phone');
  await page.keyboard.type('015228817386');
  await page.keyboard.press('Enter');
  await screenIs(page, 'pin');
  await page.keyboard.type(newPin);
  await page.keyboard.press('Enter');
  await screenIs(page, 'factor');
  await endAtPanel(page);
});

test('a number without a pickup reads exactly the same, and gets nothing', async (ctx) => {
  const page = ctx.page!;
  const server = ctx.server!;
  await server.box.advance(6_000);
  const sent = server.hw.sms.sent.length;
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  await page.getByRole('button', { name: t('phone.noSms') }).click();
  await screenIs(page, 'lostSms');
  await page.locator('h1').focus();
  await page.keyboard.type('015228817399');
  await page.keyboard.press('Enter');
  await screenIs(page, 'pin');
  assert.ok((await lines(ctx)).includes(t('pin.resent', { location: boxText(server.box.config.location) })));
  await server.box.idle();
  assert.is(server.hw.sms.sent.length, sent, 'no SMS for a number without a pickup');
});

test('with speech on (its − and + in the top bar), every control of the number, PIN, lost-SMS, factor and birth-date screens is within reach: every language, upright and on its side, normal and large text', async (ctx) => {
  const page = ctx.page!;
  const server = ctx.server!;
  // The session before ends here (at its PIN step); its requests leak out of the panel's throttle.
  await endAtPanel(page);
  await server.box.advance(45 * 60_000);
  await readyPickup(server, 'V-2026-0703', { phone: '0152 28817398' });
  const found: string[] = [];
  const check = async (name: string) => found.push(...(await unreachableEverywhere(page, ALL)).map((line) => `${name}: ${line}`));
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  await speech(page, true);
  await page.locator('h1').focus();
  await page.keyboard.type('015228817398');
  await check('phone');
  await page.keyboard.press('Enter');
  await screenIs(page, 'pin');
  await page.keyboard.type('123');
  await check('PIN');
  await endAtPanel(page);
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  // Speech stays on only while headphones are in: the clean slate switched it off.
  await speech(page, true);
  await page.locator('h1').focus();
  await page.keyboard.press('Enter');
  await screenIs(page, 'lostSms');
  await page.keyboard.type('015228817398');
  await check('lost SMS');
  assert.equal(await axeViolations(page), [], 'axe on the lost-SMS screen with speech on');
  const changed = t('lostSms.changed', { location: boxText(server.box.config.location) });
  assert.ok(ctx.spoken!.some((s) => s.text.includes(changed)), '"has your number changed?" is spoken with the screen, beside the keypad as it is');
  await page.keyboard.press('Enter');
  await screenIs(page, 'pin');
  assert.ok((await lines(ctx)).includes(t('pin.resent', { location: boxText(server.box.config.location) })), 'the PIN screen after the request');
  await check('PIN after a request');
  await server.box.idle();
  await page.keyboard.type(lastPin(server, '+4915228817398'));
  await page.keyboard.press('Enter');
  await screenIs(page, 'factor');
  await check('factor');
  await page.keyboard.press('2');
  await screenIs(page, 'birthDate');
  await page.keyboard.type('1204');
  await check('birth date');
  assert.is(await page.locator('header button.tool').count(), 4, 'speech was on throughout: the volume buttons showed');
  await speech(page, false);
  await page.locator('h1').focus();
  await endAtPanel(page);
  assert.equal(found, []);
});

test.run();
