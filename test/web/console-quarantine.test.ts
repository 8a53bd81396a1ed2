import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { ALARMS, pickupAddress, raise, REGISTRY } from '../../actors/messages.js';
import { SYSTEMIC_QUARANTINES } from '../../src/box.js';
import { STAFF } from '../api/support.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { axe, consoleBox, monitorSeesNoAction, signedIn, view, type ConsoleBox } from './console-support.js';
import { until } from './until.js';
import { damagePickupRow } from '../support/damaged-row.js';

// Staff lift a pickup's quarantine from the console. A real box on a SQLite file: pickups loaded
// and READY, then their stored rows damaged by hand (as test/box/poison-pickup.test.ts does), and
// on the restarted box each pickup's reminder fires six times — each crashes its actor, so each
// pickup is quarantined alone with its own PICKUP_FAILED alarm, and three at once raise the
// box-wide critical one. Staff find the alarm in the console and lift the quarantine there.

const REFS = Array.from({ length: SYSTEMIC_QUARANTINES }, (_, i) => `V-QUAR-${i + 1}`);
/** A pickup whose stored READY time is damaged too, but which no handler trips on: never quarantined. */
const UNREADABLE = 'V-DATE-1';

interface Ctx {
  dir?: string;
  t?: ConsoleBox;
  browser?: Browser;
  staff?: Page;
}
const test = suiteNeeding<Ctx>('staff console: lifting a quarantined pickup, in Chromium', BROWSER, {});


/** Registers and loads a pickup as the counter does; the clerk's hands open and shut the door. */
async function readyAtTheCounter(t: ConsoleBox, reference: string, phone: string): Promise<string> {
  await t.box.registerPickup({ reference, documentKind: 'ID_CARD', phone, birthDate: '1980-04-12' });
  const { compartmentId } = await t.box.loadPickup(reference, 'anna');
  await until(() => t.box.world!.openDoor(compartmentId), `the latch of ${compartmentId} to let go`);
  await until(() => t.box.compartment(compartmentId)!.door === 'open', `the box to see door ${compartmentId} open`);
  t.box.world!.closeDoor(compartmentId);
  await until(() => t.box.pickup(reference)!.status === 'READY', `${reference} to be READY`);
  return t.box.pickup(reference)!.id;
}

const alarmOf = (page: Page, subject: string) => page.locator('[data-code="PICKUP_FAILED"]').filter({ hasText: `— ${subject}` });
const quarantined = (t: ConsoleBox) => t.box.quarantinedPickups().map((q) => q.reference).sort();
const liftDialog = (page: Page, reference: string) => page.getByRole('dialog', { name: `Quarantäne von Vorgang ${reference} aufheben?` });

/** Presses the lift button of `reference`'s alarm; resolves with the confirmation it opens. */
async function askToLift(page: Page, reference: string) {
  await alarmOf(page, reference).getByRole('button', { name: `Quarantäne aufheben: ${reference}` }).click();
  const dialog = liftDialog(page, reference);
  await dialog.waitFor();
  return dialog;
}


test.before(async (ctx) => {
  await ensureWebBuilt();
  ctx.dir = mkdtempSync(join(tmpdir(), 'ausgabebox-console-quarantine-'));
  const storage = `sqlite://${join(ctx.dir, 'box.sqlite')}`;
  const first = await consoleBox('yoga', 56, { storage });
  const ids: string[] = [];
  for (const [i, reference] of REFS.entries()) ids.push(await readyAtTheCounter(first, reference, `0152 2881750${i}`));
  const unreadable = await readyAtTheCounter(first, UNREADABLE, '0152 28817509');
  await first.close();
  // The end of each pickup window typed by hand as an impossible date: the reminder SMS throws on it.
  for (const id of ids) await damagePickupRow(storage, id, { expiresAt: '2026-13-03' });
  // A READY time typed as text: only showing it fails (no handler reads it).
  await damagePickupRow(storage, unreadable, { readyAt: 'gestern' });
  const t = (ctx.t = await consoleBox('yoga', 56, { storage }));
  await t.box.cancelPickup(UNREADABLE, 'integration');
  for (const id of ids) {
    for (let i = 0; i < 6; i++) {
      t.box.inject(pickupAddress(id), { type: 'pickup.remind', pickupId: id });
      await t.box.idle();
    }
  }
  assert.equal(quarantined(t), REFS, 'every damaged pickup is quarantined');
  ctx.browser = await launchChromium();
});
test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.t?.close();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test('staff see each quarantined pickup\'s alarm with "Quarantäne aufheben"; no other alarm offers it, nor does the monitor', async (ctx) => {
  const t = ctx.t!;
  t.box.send(ALARMS, raise('test:door', 'DOOR_LEFT_OPEN', 'warning', 'A05', 'Door of compartment A05 has been open for over 60 s'));
  const { page } = await signedIn(ctx.browser!, t.base, '/staff', STAFF);
  ctx.staff = page;
  await view(page, 'Alarme');
  await page.locator('[data-code="DOOR_LEFT_OPEN"]').waitFor();
  for (const reference of REFS) await alarmOf(page, reference).getByRole('button', { name: `Quarantäne aufheben: ${reference}` }).waitFor();
  const lifts = await page.getByRole('button', { name: /^Quarantäne aufheben/ }).allTextContents();
  assert.equal(lifts.sort(), REFS.map((r) => `Quarantäne aufheben: ${r}`), 'one per quarantined pickup, nothing else');
  // The box-wide alarm (three at once: the box itself is suspect) names no pickup to lift.
  const many = alarmOf(page, REGISTRY);
  assert.is(await many.count(), 1, 'the critical PICKUP_FAILED alarm of the box is shown');
  assert.is(await many.getByRole('button', { name: /Quarantäne/ }).count(), 0);
  assert.is(await page.locator('[data-code="DOOR_LEFT_OPEN"]').getByRole('button', { name: /Quarantäne/ }).count(), 0);
  await axe(page, 'alarms with quarantined pickups');

  await monitorSeesNoAction(ctx.browser!, t.base, 'PICKUP_FAILED', REFS[0]!);
});

test('staff lift one quarantine after confirming what it does: its alarm goes, the box no longer refuses it, recorded under their name', async (ctx) => {
  const t = ctx.t!;
  const page = ctx.staff!;
  const reference = REFS[0]!;
  const dialog = await askToLift(page, reference);
  const said = (await dialog.textContent())!;
  assert.match(said, 'wieder in Betrieb genommen');
  assert.match(said, 'Nur aufheben, wenn die Ursache behoben ist');
  assert.match(said, 'Stürzt die Bearbeitung erneut ab, kommt der Vorgang wieder in Quarantäne');
  await axe(page, 'lift confirmation');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'lift-confirm.png') });
  assert.equal(quarantined(t), REFS, 'nothing lifted before confirming');

  await dialog.getByRole('button', { name: 'Quarantäne aufheben' }).click();
  await page.getByRole('status').getByText(`Quarantäne aufgehoben: Vorgang ${reference} ist wieder in Betrieb (abholbereit).`).waitFor();
  await alarmOf(page, reference).waitFor({ state: 'detached' });
  assert.equal(quarantined(t), REFS.slice(1), 'the box lists only the others as quarantined');
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED' && a.subject === reference), 'its alarm is cleared in the box');
  // Below the threshold the box-wide alarm is cleared as well; the others stay.
  await alarmOf(page, REGISTRY).waitFor({ state: 'detached' });
  for (const other of REFS.slice(1)) assert.is(await alarmOf(page, other).count(), 1, `${other} is still shown`);
  const lifted = (await t.box.audit(1, 10_000)).filter((r) => r.action === 'pickup.quarantineLifted');
  assert.equal(lifted.map((r) => [r.subject, r.actor]), [[reference, 'anna']]);
  await axe(page, 'alarms after the lift');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'lift-done.png') });
});

test('when a colleague lifted it first, confirming says in words that there is nothing to lift, with PICKUP_WRONG_STATE', async (ctx) => {
  const t = ctx.t!;
  const page = ctx.staff!;
  const reference = REFS[1]!;
  const dialog = await askToLift(page, reference);
  await t.box.liftPickupQuarantine(reference, 'ben');
  await alarmOf(page, reference).waitFor({ state: 'detached' });
  await dialog.getByRole('button', { name: 'Quarantäne aufheben' }).click();
  const error = page.getByRole('status').locator('.error');
  await error.waitFor();
  assert.is(await error.textContent(), `Vorgang ${reference} ist nicht in Quarantäne, es gibt nichts aufzuheben (vielleicht wurde sie schon aufgehoben). (PICKUP_WRONG_STATE)`);
  const lifted = (await t.box.audit(1, 10_000)).filter((r) => r.action === 'pickup.quarantineLifted' && r.subject === reference);
  assert.equal(lifted.map((r) => r.actor), ['ben'], 'lifted once, by the colleague');
  assert.equal(quarantined(t), REFS.slice(2));
  await axe(page, 'alarms with the error');
});

test('a pickup with an unreadable stored value does not hide the retrieval worklist: it is listed, and the page names the error', async (ctx) => {
  const page = ctx.staff!;
  await view(page, 'Rückholung');
  const row = page.locator(`tr[data-reference="${UNREADABLE}"]`);
  await row.waitFor();
  assert.match((await row.textContent())!, 'storniert');
  await row.getByRole('button', { name: `Entnehmen ${UNREADABLE}` }).waitFor();
  const problem = page.getByTestId('worklist-unreadable');
  assert.match((await problem.textContent())!, /^Nicht alle Angaben der Liste sind lesbar \(gespeicherter Datensatz beschädigt\?\): .+ \(INTERNAL\)$/);
  await axe(page, 'worklist with an unreadable value');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'worklist-unreadable.png') });
  await view(page, 'Alarme');
});

test('looked up in the retrieval view, a quarantined pickup says so and is offered only the lift; once lifted, the usual actions are back', async (ctx) => {
  const t = ctx.t!;
  const page = ctx.staff!;
  const reference = REFS[2]!;
  const compartmentId = t.box.pickup(reference)!.compartmentId!;
  await view(page, 'Rückholung');
  await page.getByLabel('Vorgangsnummer').fill(reference);
  await page.getByRole('button', { name: 'Suchen' }).click();
  const card = page.locator(`.pickup-card[data-reference="${reference}"]`);
  const note = card.locator('.quarantine');
  await note.waitFor();
  assert.is(await note.textContent(), `⚠ In Quarantäne (PICKUP_FAILED): die Box lehnt diesen Vorgang ab, bis die Quarantäne aufgehoben ist; Fach ${compartmentId} bleibt so lange verschlossen.`);
  assert.equal(await card.getByRole('button').allTextContents(), ['Quarantäne aufheben'], 'no action the box would refuse with PICKUP_FAILED');
  // Its damaged date cannot be shown; the card still is, and says so.
  assert.match((await card.locator('.error').textContent())!, /^Nicht alle Angaben sind lesbar \(gespeicherter Datensatz beschädigt\?\): .+ \(INTERNAL\)$/);
  await axe(page, 'look-up of a quarantined pickup');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'lookup-quarantined.png') });

  await card.getByRole('button', { name: 'Quarantäne aufheben' }).click();
  await liftDialog(page, reference).getByRole('button', { name: 'Quarantäne aufheben' }).click();
  await page.getByRole('status').getByText(`Quarantäne aufgehoben: Vorgang ${reference} ist wieder in Betrieb (abholbereit).`).waitFor();
  await card.getByRole('button', { name: 'Neue PIN senden' }).waitFor();
  assert.equal(await card.getByRole('button').allTextContents(), ['Neue PIN senden', 'Entnehmen', 'Stornieren']);
  assert.is(await note.count(), 0, 'the card no longer says quarantined');
  assert.equal(quarantined(t), []);
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED'), 'no PICKUP_FAILED alarm is left open');
  await axe(page, 'look-up after the lift');
});

test.run();
