// Screenshots of the staff console and the monitor for the README, taken in Chromium from a
// realistic box: the layout of 608 compartments on 87 MCP23017 boards (11 I2C buses; simulated
// here at device level, so that a week passes in seconds), a week of
// pickups behind it (loaded, collected, a few wrong PINs, one expired), some compartments
// occupied, one with a fault (a forced door), one door open, one out of service.
//
//   npx tsx scripts/staff-screenshots.ts            (writes docs/staff/*.png)
import { SimulatedClock } from '../actors/runtime/clock.js';
import { demoLayout } from '../drivers/layout.js';
import { createBox } from '../src/box.js';
import { createYogaServer } from '../src/server/index.js';
import { launchChromium, ensureWebBuilt } from '../test/support/browser.js';
import { TOKENS, STAFF, MONITOR } from '../test/api/support.js';

const OUT = new URL('../docs/staff/', import.meta.url).pathname;
const DAY = 86_400_000;
const clock = new SimulatedClock(Date.UTC(2026, 10, 16, 7, 0, 0)); // Monday 16 Nov 2026, 08:00 in Düsseldorf
const box = await createBox({ storage: 'memory:', layout: demoLayout(608), hardware: 'simulated', lockPulseMs: 0, hoursPreset: 'always', kiosks: ['1', '2'], throttle: { free: 100, baseMs: 30_000, maxMs: 3_600_000 } }, { clock, generatePin: seededPins() });
const world = box.world!;

function seededPins(): () => string {
  let x = 20261116;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return String(x % 1_000_000).padStart(6, '0');
  };
}

let n = 0;
const phoneOf = (i: number) => `+49152288${String(17000 + i).padStart(5, '0')}`;
const pins = new Map<string, string>();
const sms = box.hardware.sms as unknown as { sent: Array<{ to: string; text: string }> };

async function loadOne(): Promise<string> {
  const i = ++n;
  const reference = `V-2026-${String(1000 + i)}`;
  await box.registerPickup({ reference, documentKind: i % 5 === 0 ? 'PASSPORT' : 'ID_CARD', phone: phoneOf(i), birthDate: '1980-04-12', accessible: i % 17 === 0 });
  const { compartmentId } = await box.loadPickup(reference, 'anna');
  await box.advance(400);
  world.openDoor(compartmentId);
  await box.advance(300);
  world.closeDoor(compartmentId);
  await box.advance(2_500);
  const pin = /PIN: (\d{6})/.exec(sms.sent.filter((m) => m.to === phoneOf(i)).at(-1)!.text)![1]!;
  pins.set(reference, pin);
  return reference;
}

async function collect(reference: string, wrongFirst: boolean): Promise<void> {
  const i = Number(reference.slice(-4)) - 1000;
  if (wrongFirst) {
    // A mistyped PIN first: the session goes back to the number; the citizen gives up and retries.
    const { sessionId: failed } = await box.startSession('1');
    await box.sessionInput(failed, { type: 'phone', phone: phoneOf(i) });
    await box.sessionInput(failed, { type: 'pin', pin: String((Number(pins.get(reference)) + 1) % 1e6).padStart(6, '0') });
    await box.sessionInput(failed, { type: 'cancel' }).catch(() => {});
    await box.advance(10_000);
  }
  const { sessionId } = await box.startSession('1');
  await box.sessionInput(sessionId, { type: 'phone', phone: phoneOf(i) });
  await box.sessionInput(sessionId, { type: 'pin', pin: pins.get(reference)! });
  await box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' }).catch(() => {});
  await box.sessionInput(sessionId, { type: 'birthDate', birthDate: '12.04.1980' }).catch((e) => {
    console.log(reference, wrongFirst, box.session(sessionId), pins.get(reference), box.pickup(reference));
    throw e;
  });
  await box.advance(2_500);
  const c = box.pickup(reference)!.compartmentId!;
  world.openDoor(c);
  await box.advance(300);
  world.closeDoor(c);
  await box.advance(5_500);
}

// A week at the counter: every morning documents go in, during the day citizens collect.
const waiting: string[] = [];
for (let day = 0; day < 7; day++) {
  for (let k = 0; k < 9 + (day % 3) * 3; k++) waiting.push(await loadOne());
  await box.advance(3 * 3_600_000);
  for (let k = 0; k < 6 + (day % 2) * 3 && waiting.length > 12; k++) await collect(waiting.shift()!, k % 4 === 0);
  await box.advance(DAY - 3 * 3_600_000 - 60_000);
}
// A week later the windows of the oldest ones ran out: they wait for staff to take them out.
await box.advance(7 * DAY);
for (let k = 0; k < 30; k++) waiting.push(await loadOne());
// One fault (a door pried open), one door open for loading, one compartment out of service.
await box.registerPickup({ reference: 'V-2026-2001', documentKind: 'ID_CARD', phone: phoneOf(999), birthDate: '1980-04-12' });
const { compartmentId: opening } = await box.loadPickup('V-2026-2001', 'anna');
await box.advance(400);
world.openDoor(opening);
await box.advance(300);
world.forceDoor('M04');
await box.advance(300);
await box.setCompartmentService('T08', false, 'anna', 'Scharnier klemmt');
await box.advance(300);

const server = createYogaServer(box, { tokens: TOKENS, logError: () => {} });
const { url } = await server.listen(0, '127.0.0.1');
const base = url.replace(/\/graphql$/, '');
await ensureWebBuilt();
const browser = await launchChromium();

async function shoot(path: '/staff' | '/monitor', token: string, shots: Array<[string, string]>) {
  const context = await browser.newContext({ viewport: { width: 2000, height: 1080 } });
  const page = await context.newPage();
  await page.goto(base + path);
  await page.getByLabel('Zugangsschlüssel').fill(token);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('button', { name: 'Abmelden' }).waitFor();
  for (const [view, file] of shots) {
    await page.getByRole('navigation').getByRole('button', { name: new RegExp(`^${view}`) }).click();
    await page.waitForTimeout(800);
    if (view === 'Box') await page.locator('.box-front-grid [data-id="M04"]').click().catch(() => {});
    await page.waitForTimeout(300);
    await page.screenshot({ path: OUT + file, fullPage: true });
    console.log(`wrote docs/staff/${file}`);
  }
  await context.close();
}

await shoot('/staff', STAFF, [
  ['Box', 'console-box.png'],
  ['Rückholung', 'console-worklist.png'],
  ['Kennzahlen', 'console-figures.png'],
  ['Protokoll', 'console-audit.png'],
  ['Alarme', 'console-alarms.png'],
]);
await shoot('/monitor', MONITOR, [['Box', 'monitor-box.png']]);

// Loading at the counter: scan, the compartment opens, the front points at it.
{
  const context = await browser.newContext({ viewport: { width: 2000, height: 1080 } });
  const page = await context.newPage();
  await page.goto(base + '/staff');
  await page.getByLabel('Zugangsschlüssel').fill(STAFF);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await box.registerPickup({ reference: 'V-2026-3001', documentKind: 'PASSPORT', phone: phoneOf(3001), birthDate: '1980-04-12' });
  await page.getByLabel('Vorgangsnummer scannen oder eingeben').focus();
  await page.keyboard.type('V-2026-3001\n', { delay: 5 });
  await page.getByTestId('load-compartment').waitFor();
  const id = (await page.getByTestId('load-compartment').textContent())!;
  await box.advance(400);
  world.openDoor(id);
  await box.advance(300);
  await page.getByText('✓ Tür ist offen').waitFor();
  await page.locator('.cell-highlight').scrollIntoViewIfNeeded();
  await page.screenshot({ path: OUT + 'console-load.png', fullPage: true });
  console.log('wrote docs/staff/console-load.png');
  await context.close();
}

await browser.close();
await server.close();
await box.close();
