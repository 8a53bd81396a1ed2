import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { ALARMS, raise } from '../../actors/messages.js';
import { STAFF } from '../api/support.js';
import { ALARM_LIST_BUG } from '../helpers.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { axe, consoleBox, monitorSeesNoAction, signedIn, view, type ConsoleBox } from './console-support.js';
import { until } from './until.js';

// Staff take a part of the box that failed for good back into operation from the console. A real
// box on the register-level I2C simulation and the real clock: the door sensors of two
// compartments stop answering, each compartment crashes on reading its door again and again and
// is stopped (ACTOR_FAILED, health fails). Once the bus answers again, staff revive them from
// their alarms.

const BROKEN = ['compartment/A03', 'compartment/A04'];

interface Ctx {
  t?: ConsoleBox;
  browser?: Browser;
  staff?: Page;
  repair?: () => void;
}
const test = suiteNeeding<Ctx>('staff console: reviving a failed part, in Chromium', BROWSER, {});

const alarmOf = (page: Page, subject: string) => page.locator('[data-code="ACTOR_FAILED"]').filter({ hasText: `— ${subject}` });
const reviveDialog = (page: Page, address: string) => page.getByRole('dialog', { name: `${address} wieder in Betrieb nehmen?` });
const failedActors = (t: ConsoleBox) => t.box.failures().map((f) => f.actor).sort();


/** Presses the revive button of `address`'s alarm; resolves with the confirmation it opens. */
async function askToRevive(page: Page, address: string) {
  await alarmOf(page, address).getByRole('button', { name: `Wieder in Betrieb nehmen: ${address}` }).click();
  const dialog = reviveDialog(page, address);
  await dialog.waitFor();
  return dialog;
}

test.before(async (ctx) => {
  await ensureWebBuilt();
  const t = (ctx.t = await consoleBox('yoga', 56));
  const locks = t.box.hardware.locks;
  const readDoors = locks.readDoors.bind(locks);
  locks.readDoors = () => Promise.reject(Object.assign(new Error('bus stuck'), { code: 'I2C_BUS_STUCK' }));
  ctx.repair = () => {
    locks.readDoors = readDoors;
  };
  // Each is told to read its door again (as after a crash): it crashes on the read, again and again.
  for (const address of BROKEN) t.box.supervisor.post(address as never, { type: 'restarted' } as never);
  await until(() => failedActors(t).length === BROKEN.length, 'both compartments to fail for good');
  ctx.browser = await launchChromium();
});
test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.t?.close();
});

test('staff see each failed part\'s alarm with "Wieder in Betrieb nehmen"; no other alarm offers it, nor does the monitor', async (ctx) => {
  const t = ctx.t!;
  t.box.send(ALARMS, raise('test:door', 'DOOR_LEFT_OPEN', 'warning', 'A05', 'Door of compartment A05 has been open for over 60 s'));
  const { page } = await signedIn(ctx.browser!, t.base, '/staff', STAFF);
  ctx.staff = page;
  await view(page, 'Alarme');
  await page.locator('[data-code="DOOR_LEFT_OPEN"]').waitFor();
  for (const address of BROKEN) await alarmOf(page, address).getByRole('button', { name: `Wieder in Betrieb nehmen: ${address}` }).waitFor();
  const revives = await page.getByRole('button', { name: /^Wieder in Betrieb nehmen/ }).allTextContents();
  assert.equal(revives.sort(), BROKEN.map((a) => `Wieder in Betrieb nehmen: ${a}`), 'one per failed part, nothing else');
  assert.is(await page.locator('[data-code="DOOR_LEFT_OPEN"]').getByRole('button', { name: /Wieder in Betrieb/ }).count(), 0);
  await axe(page, 'alarms with failed parts');

  await monitorSeesNoAction(ctx.browser!, t.base, 'ACTOR_FAILED', BROKEN[0]!);
});

test('after the repair staff revive one after confirming what it does: its alarm goes, health no longer names it, recorded under their name', async (ctx) => {
  const t = ctx.t!;
  const page = ctx.staff!;
  const address = BROKEN[0]!;
  const dialog = await askToRevive(page, address);
  const said = (await dialog.textContent())!;
  assert.match(said, 'Nur wieder in Betrieb nehmen, wenn die Ursache behoben ist');
  assert.match(said, 'geschieht nicht nachträglich');
  assert.match(said, 'Fällt es erneut aus, wird es wieder gestoppt');
  await axe(page, 'revive confirmation');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'revive-confirm.png') });
  assert.equal(failedActors(t), BROKEN, 'nothing revived before confirming');

  ctx.repair!();
  await dialog.getByRole('button', { name: 'Wieder in Betrieb nehmen' }).click();
  await page.getByRole('status').getByText(`${address} ist wieder in Betrieb.`).waitFor();
  await alarmOf(page, address).waitFor({ state: 'detached' });
  assert.equal(failedActors(t), BROKEN.slice(1));
  const revived = (await t.box.audit(1, 10_000)).filter((r) => r.action === 'actor.revived');
  assert.equal(revived.map((r) => [r.subject, r.actor]), [[address, 'anna']]);
  // The compartment works again: it read its door on reviving and serves a staff opening.
  await until(() => t.box.compartment('A03')!.state === 'free', 'A03 to be free again');
  await axe(page, 'alarms after the revive');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'revive-done.png') });
});

test('when a colleague revived it first, confirming says in words that there is nothing to revive, with ACTOR_NOT_FAILED', async (ctx) => {
  const t = ctx.t!;
  const page = ctx.staff!;
  const address = BROKEN[1]!;
  const dialog = await askToRevive(page, address);
  await t.box.reviveActor(address, 'ben');
  await alarmOf(page, address).waitFor({ state: 'detached' });
  await dialog.getByRole('button', { name: 'Wieder in Betrieb nehmen' }).click();
  const error = page.getByRole('status').locator('.error');
  await error.waitFor();
  assert.is(await error.textContent(), `${address} ist nicht gestoppt, es gibt nichts wieder in Betrieb zu nehmen (vielleicht ist das schon geschehen). (ACTOR_NOT_FAILED)`);
  const revived = (await t.box.audit(1, 10_000)).filter((r) => r.action === 'actor.revived' && r.subject === address);
  assert.equal(revived.map((r) => r.actor), ['ben'], 'revived once, by the colleague');
  assert.equal(failedActors(t), []);
  await axe(page, 'alarms with the error');
});

test('the alarm list itself failed for good: staff see it as a critical alarm with its revive; revived, the alarms raised meanwhile appear', async (ctx) => {
  const t = ctx.t!;
  const page = ctx.staff!;
  // A message whose handling throws (as a bug would), six times: the alarm list is stopped. It
  // cannot raise an alarm about itself: the console learns it from health.
  for (let i = 0; i < 6; i++) t.box.supervisor.post(ALARMS as never, ALARM_LIST_BUG as never);
  await until(() => failedActors(t).includes(ALARMS), 'the alarm list to fail for good');
  const part = page.locator(`[data-part="${ALARMS}"]`);
  await part.waitFor();
  assert.match((await part.textContent())!, 'Die Alarmliste der Box ist wiederholt ausgefallen');
  // Raised while the list is stopped: kept, not shown yet.
  t.box.send(ALARMS, raise('test:kept', 'DOOR_LEFT_OPEN', 'warning', 'A06', 'Door of compartment A06 has been open for over 60 s'));
  await axe(page, 'alarms with the alarm list failed');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'alarm-list-failed.png'), fullPage: true });
  assert.is(await page.locator('[data-code="DOOR_LEFT_OPEN"]').filter({ hasText: '— A06' }).count(), 0, 'not shown while the list is stopped');

  await part.getByRole('button', { name: `Wieder in Betrieb nehmen: ${ALARMS}` }).click();
  const dialog = reviveDialog(page, ALARMS);
  await dialog.waitFor();
  // It kept the alarms raised or ended meanwhile (up to 10,000): what it says is that they come, not that they are lost.
  const said = (await dialog.textContent())!;
  assert.match(said, 'zeigt sie die Alarme, die inzwischen ausgelöst oder beendet wurden');
  assert.not.match(said, 'geschieht nicht nachträglich');
  await axe(page, 'revive confirmation of the alarm list');
  if (process.env.CONSOLE_SHOTS) await page.screenshot({ path: join(process.env.CONSOLE_SHOTS, 'revive-alarm-list.png') });
  await dialog.getByRole('button', { name: 'Wieder in Betrieb nehmen' }).click();
  await page.getByRole('status').getByText(`${ALARMS} ist wieder in Betrieb.`).waitFor();
  await part.waitFor({ state: 'detached' });
  await page.locator('[data-code="DOOR_LEFT_OPEN"]').filter({ hasText: '— A06' }).waitFor();
  assert.equal(failedActors(t), []);
  await axe(page, 'alarms after the alarm list was revived');
});

test.run();
