import type { Browser, Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { ALARMS, raise } from '../../actors/messages.js';
import { MONITOR, STAFF } from '../api/support.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { axe, consoleBox, signedIn, view, type ConsoleBox } from './console-support.js';
import { until } from './until.js';

// The staff console and the monitor in Chromium, against a real box on the register-level I2C
// simulation and the real clock: what staff at the counter and a monitor would do and see.

const VIEWS = ['Beladen', 'Rückholung', 'Box', 'Alarme', 'Kennzahlen', 'Protokoll'];

interface Ctx {
  t?: ConsoleBox;
  browser?: Browser;
  staff?: Page;
}
const test = suiteNeeding<Ctx>('staff console and monitor in Chromium', BROWSER, {});

test.before(async (ctx) => {
  await ensureWebBuilt();
  ctx.t = await consoleBox('yoga', 56);
  ctx.browser = await launchChromium();
});
test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.t?.close();
});

const register = (t: ConsoleBox, reference: string) =>
  t.box.registerPickup({ reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: '1980-04-12' });

/** The clerk's hands: open the door once the latch lets go, then shut it. */
async function openAndClose(t: ConsoleBox, id: string, between?: () => Promise<void>) {
  await until(() => t.box.world!.openDoor(id), `the latch of ${id} to let go`);
  // The boards are polled: the box must have seen the door open before it shuts again.
  await until(() => t.box.compartment(id)!.door === 'open', `the box to see door ${id} open`);
  await between?.();
  t.box.world!.closeDoor(id);
}



test('the sign-in page asks for the credential and keeps it out of the URL and the page storage', async (ctx) => {
  const context = await ctx.browser!.newContext();
  const page = await context.newPage();
  await page.goto(ctx.t!.base + '/staff');
  await axe(page, 'sign-in');
  await page.getByLabel('Zugangsschlüssel').fill('wrong-token-0000000000');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('alert').filter({ hasText: 'nicht gültig' }).waitFor();
  await page.getByLabel('Zugangsschlüssel').fill(STAFF);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByText('Angemeldet: anna').waitFor();
  assert.not.ok(page.url().includes(STAFF));
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie + document.documentElement.outerHTML);
  assert.not.ok(stored.includes(STAFF), 'the token is nowhere the page can read');
  const cookies = await context.cookies();
  assert.equal(
    cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path]),
    [['ausgabebox_session', true, 'Strict', '/graphql']],
  );
  // A reload keeps the browser session signed in; signing out ends it.
  await page.reload();
  await page.getByText('Angemeldet: anna').waitFor();
  await page.getByRole('button', { name: 'Abmelden' }).click();
  await page.getByLabel('Zugangsschlüssel').waitFor();
  await page.reload();
  await page.getByLabel('Zugangsschlüssel').waitFor();
  await context.close();
});

test('loading by scanning: the box opens a compartment, the page shows where, follows the door and confirms READY and the SMS', async (ctx) => {
  const { page } = await signedIn(ctx.browser!, ctx.t!.base, '/staff', STAFF);
  ctx.staff = page;
  const t = ctx.t!;
  await register(t, 'V-2026-0101');
  const sent = t.box.outbox().sentCount;
  // A keyboard-wedge scanner: fast keystrokes and Enter into the focused field.
  await page.getByLabel('Vorgangsnummer scannen oder eingeben').focus();
  await page.keyboard.type('V-2026-0101\n', { delay: 3 });
  await page.getByTestId('load-compartment').waitFor();
  const id = (await page.getByTestId('load-compartment').textContent())!;
  assert.is(t.box.pickup('V-2026-0101')!.compartmentId, id, 'the page names the compartment the box chose');
  assert.is(await page.locator('.box-front .cell-highlight').getAttribute('data-id'), id, 'and points at it on the box front');
  await openAndClose(t, id, async () => {
    await page.getByText('✓ Tür ist offen').waitFor();
    assert.is(await page.locator(`.box-front [data-id="${id}"]`).getAttribute('data-door'), 'open');
  });
  await page.getByText('✓ Vorgang V-2026-0101 ist abholbereit (READY)').waitFor();
  await page.getByText('✓ SMS mit PIN ist versendet').waitFor();
  assert.is(t.box.pickup('V-2026-0101')!.status, 'READY');
  assert.is(t.box.outbox().sentCount, sent + 1);
  const loading = (await t.box.audit(1, 10_000)).find((r) => r.action === 'pickup.loading' && r.subject === 'V-2026-0101');
  assert.is(loading?.actor, 'anna', 'the staff name is in the audit record');
  assert.ok(await page.getByLabel('Vorgangsnummer scannen oder eingeben').evaluate((el) => el === document.activeElement), 'ready for the next scan');
});

test('mis-scans and unknown references get a clear message and change nothing', async (ctx) => {
  const page = ctx.staff!;
  const t = ctx.t!;
  const before = { audit: (await t.box.audit(1, 10_000)).length, compartments: JSON.stringify(t.box.compartments()) };
  await page.keyboard.type('x\n', { delay: 3 });
  await page.getByText('Unbekannte Vorgangsnummer „x“. Es wurde nichts geändert.').waitFor();
  await page.keyboard.type('V-2026-9999\n', { delay: 3 });
  await page.getByText('Unbekannte Vorgangsnummer „V-2026-9999“. Es wurde nichts geändert.').waitFor();
  await page.keyboard.type('V-2026-0101\n', { delay: 3 });
  await page.locator('.load-status .error').filter({ hasText: 'PICKUP_WRONG_STATE' }).waitFor();
  assert.is((await t.box.audit(1, 10_000)).length, before.audit);
  assert.is(JSON.stringify(t.box.compartments()), before.compartments);
});

test('the retrieval worklist shows a cancelled document with where it is, and empties after retrieval', async (ctx) => {
  const page = ctx.staff!;
  const t = ctx.t!;
  await t.box.cancelPickup('V-2026-0101', 'integration');
  const id = t.box.pickup('V-2026-0101')!.compartmentId!;
  await view(page, 'Rückholung');
  const row = page.locator('tr[data-reference="V-2026-0101"]');
  await row.waitFor();
  assert.match((await row.textContent())!, new RegExp(`${id} \\(Spalte A, Reihe \\d`));
  await axe(page, 'worklist');
  await row.getByRole('button', { name: 'Entnehmen V-2026-0101' }).click();
  // Opening a door is confirmed first.
  const dialog = page.getByRole('dialog', { name: `Fach ${id} öffnen?` });
  await dialog.waitFor();
  await axe(page, 'confirmation dialog');
  await dialog.getByRole('button', { name: 'Fach öffnen' }).click();
  await openAndClose(t, id);
  await page.getByTestId('worklist-empty').waitFor();
  assert.is(t.box.pickup('V-2026-0101')!.compartmentId, null, 'the document is out of the box');
  await until(() => !t.box.compartment(id)!.occupied, `${id} to be free again`, 2_000);
  const retrieving = (await t.box.audit(1, 10_000)).find((r) => r.action === 'pickup.retrieving' && r.subject === 'V-2026-0101');
  assert.is(retrieving?.actor, 'anna');
});

test('an alarm raised in the box reaches the console within a second, with a tone, and staff acknowledge it', async (ctx) => {
  const page = ctx.staff!;
  const t = ctx.t!;
  await view(page, 'Alarme');
  const raisedAt = Date.now();
  t.box.send(ALARMS, raise('test:forced', 'DOOR_FORCED', 'critical', 'A05', 'Door of compartment A05 opened without an unlock'));
  const alarm = page.locator('[data-code="DOOR_FORCED"]');
  await alarm.waitFor({ timeout: 1_000 });
  const seenAfter = Date.now() - raisedAt;
  assert.ok(seenAfter < 1_000, `shown after ${seenAfter} ms`);
  assert.is(await page.evaluate(() => document.documentElement.dataset.alarmTones), '1', 'one tone for the new critical alarm');
  // Said in German, what it means and what to do; the box's own text below, marked as English.
  await page.getByRole('alert').filter({ hasText: 'Neuer kritischer Alarm: Eine Fachtür wurde ohne Entriegelung geöffnet. (A05)' }).waitFor();
  assert.is(await alarm.locator('.what').textContent(), 'Eine Fachtür wurde ohne Entriegelung geöffnet.');
  assert.match((await alarm.locator('.todo').textContent())!, /^Was tun: Fach ansehen/);
  assert.is(await alarm.locator('.detail [lang="en"]').textContent(), 'Door of compartment A05 opened without an unlock');
  await axe(page, 'alarms');
  await alarm.getByRole('button', { name: 'Quittieren: DOOR_FORCED A05' }).click();
  await alarm.waitFor({ state: 'detached' });
  const acked = t.box.alarms().find((a) => a.key === 'test:forced')!;
  assert.is(acked.acknowledgedBy, 'anna');
});

test('every view of the console passes axe (WCAG 2.2 AA)', async (ctx) => {
  const page = ctx.staff!;
  for (const name of VIEWS) {
    await view(page, name);
    await page.waitForTimeout(300);
    await axe(page, `staff: ${name}`);
  }
});

test('the monitor sees the same box live and is offered no action', async (ctx) => {
  const t = ctx.t!;
  const { context, page } = await signedIn(ctx.browser!, t.base, '/monitor', MONITOR);
  await page.getByText('Angemeldet: monitor').waitFor();
  assert.is(await page.getByRole('button', { name: 'Beladen' }).count(), 0);
  await view(page, 'Box');
  await page.locator('.box-front-grid .cell').nth(55).waitFor();
  assert.is(await page.locator('.box-front-grid .cell').count(), 56);
  // Live: a door opened at the box shows on the monitor.
  await register(t, 'V-2026-0102');
  const { compartmentId } = await t.box.loadPickup('V-2026-0102', 'anna');
  await until(() => t.box.world!.openDoor(compartmentId), 'the latch');
  await page.locator(`.box-front [data-id="${compartmentId}"][data-door="open"]`).waitFor();
  t.box.world!.closeDoor(compartmentId);
  await page.locator(`.box-front [data-id="${compartmentId}"][data-state="occupied"][data-door="closed"]`).waitFor();
  // Live alarms too — and nothing to acknowledge them with.
  t.box.send(ALARMS, raise('test:monitor', 'SHREDDER_JAM', 'critical', 'shredder/1', 'Schredder blockiert'));
  await view(page, 'Alarme');
  await page.locator('[data-code="SHREDDER_JAM"]').waitFor({ timeout: 1_000 });
  for (const name of VIEWS.slice(1)) {
    await view(page, name);
    await page.waitForTimeout(300);
    await axe(page, `monitor: ${name}`);
    const actions = await page.locator('main button').allTextContents();
    assert.equal(
      actions.filter((a) => /Quittieren|Entnehmen|Fach öffnen|Betrieb|freigeben|Neue PIN|Stornieren/.test(a)),
      [],
      `no action on ${name}`,
    );
  }
  await context.close();
});

test.run();
