import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickupAddress } from '../../actors/messages.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { TOKENS } from '../api/support.js';
import { MONDAY_10AM, readyPickup, testBox } from '../helpers.js';
import { BROWSER } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { boxText, translator } from '../../web/kiosk/i18n.js';
import { checkEverywhere, closeKiosk, openKiosk, screenIs, toPin, type KioskCtx } from './kiosk-page.js';
import { damagePickupRow } from '../support/damaged-row.js';

// A pickup whose stored row is damaged kept crashing its own actor and is refused alone
// (PICKUP_FAILED, README "A poison pickup fails alone"). Its citizen, typing the right PIN at the
// panel, is told that the box cannot hand the document out and the counter will — not "something
// went wrong, start again", which cannot help — with the counter's address and hours.

interface Ctx extends KioskCtx {
  dir?: string;
}
const test = suiteNeeding<Ctx>('kiosk quarantined pickup', BROWSER, {});
test.after(async (ctx) => {
  await closeKiosk(ctx);
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});
const t = translator('de', 'Europe/Berlin');

test('the right PIN for a quarantined pickup: go to the counter, its staff hand the document out', async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'kiosk-quarantine-'));
  const storage = `sqlite://${join(ctx.dir, 'box.sqlite')}`;
  const clock = new SimulatedClock(MONDAY_10AM);
  const before = await testBox({ storage, kiosks: ['1', '2'] }, { clock });
  const { pin } = await readyPickup(before, 'V-2026-0901', { phone: '0152 28817390' });
  const id = before.box.pickup('V-2026-0901')!.id;
  await before.box.close();
  // The pickup window's end typed by hand with an impossible date: its reminder throws on it.
  await damagePickupRow(storage, id, { expiresAt: '2026-13-03' });
  const box = await testBox({ storage, kiosks: ['1', '2'] }, { clock });
  for (let i = 0; i < 6; i++) {
    box.box.inject(pickupAddress(id), { type: 'pickup.remind', pickupId: id });
    await box.box.idle();
  }
  assert.equal(box.box.quarantinedPickups().map((q) => q.reference), ['V-2026-0901'], 'quarantined');
  const page = await openKiosk(ctx, 'yoga', undefined, {}, async () => box);
  await toPin(page, '015228817390');
  await page.keyboard.type(pin);
  await page.keyboard.press('Enter');
  await screenIs(page, 'done');
  const location = boxText(box.box.config.location);
  assert.is(await page.locator('h1').textContent(), t('error.PICKUP_FAILED', { location }));
  const boxHours = (await ctx.server!.gql(`{ box { hours } }`, {}, TOKENS.monitor)).data!.box.hours as string;
  const lines = await page.locator('main p').allTextContents();
  assert.ok(lines.includes(t('closed.hours', { hours: boxText(boxHours) })), 'the counter\'s hours are shown');
  assert.not.ok(lines.includes(t('error.OTHER', { location })), 'not "something went wrong"');
  assert.is(box.box.pickup('V-2026-0901')!.claim, null, 'nothing was claimed');

  // Readable and within reach everywhere, as every error screen: axe in normal and large text, landscape and portrait; every language, speech off and on.
  await checkEverywhere(page, 'quarantined');
  await page.keyboard.press('Enter');
  await screenIs(page, 'start');
});

test.run();
