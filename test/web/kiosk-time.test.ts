import * as assert from 'uvu/assert';
import { BROWSER } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { translator } from '../../web/kiosk/i18n.js';
import { DONE_MS } from '../../web/kiosk/timing.js';
import { advanceClock, axeViolations, closeKiosk, fitsViewport, largeText, openKiosk, screenIs, shot, unreachableEverywhere, type KioskCtx } from './kiosk-page.js';
import { until } from './until.js';

// WCAG 2.2.1 at the panel: 20 s before the session would time out the page warns, on screen and
// in speech; one key gives the whole time again, ten times; then the timeout stands and the panel
// is clean for the next person. The box's clock is simulated and moved through the harness API.

const test = suiteNeeding<KioskCtx>('kiosk time limit', BROWSER, {});
test.after(closeKiosk);

const t = translator('de', 'Europe/Berlin');
const warningShown = (ctx: KioskCtx) => ctx.page!.waitForSelector('.alert--time', { timeout: 10_000 });
const warningGone = (ctx: KioskCtx) => ctx.page!.waitForSelector('.alert--time', { state: 'detached', timeout: 10_000 });
const session = (ctx: KioskCtx) => {
  const id = ctx.server!.box.supervisor.view<{ active: string | null }>('kiosk/1')!.ctx.active!;
  return ctx.server!.box.session(id)!;
};

test('the warning is shown and spoken; one key extends it ten times, what was typed stays; then the session times out to a clean slate', async (ctx) => {
  const page = await openKiosk(ctx);
  await page.getByRole('button', { name: t('button.speech') }).click();
  // The keypad's Enter would press the focused button again: the focus goes back to the screen.
  await page.locator('h1').focus();
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  await page.keyboard.type('0152');
  await until(async () => (await page.locator('.entry__value').textContent()) === '0152', 'the typed digits are shown');

  for (let i = 1; i <= 10; i++) {
    await advanceClock(ctx.server!, 40_000);
    await warningShown(ctx);
    if (i === 1) {
      const text = await page.locator('.alert--time p').textContent();
      assert.match(text!, /Brauchen Sie mehr Zeit\? Der Vorgang endet in (1\d|20) Sekunden/);
      await until(() => ctx.spoken!.some((s) => s.lang === 'de' && s.text.includes('Brauchen Sie mehr Zeit?')), 'the warning is spoken in German');
      assert.equal(await axeViolations(page), [], 'axe on the warning');
      assert.ok(await fitsViewport(page), 'the warning, keypad and footer fit the 1280×1024 panel');
      await shot(page, 'de-11-timeWarning');
      assert.equal(await unreachableEverywhere(page, ['de', 'ar']), [], 'the warning, its button and the keypad within reach, upright and on its side, in normal and large text');
      assert.is(await page.locator('.alert--time').count(), 1, 'that was the warning');
    }
    await page.keyboard.press('7');
    await warningGone(ctx);
    assert.is(session(ctx).extensionsLeft, 10 - i, `extension ${i} reached the box`);
    assert.is(await page.locator('.entry__value').textContent(), '0152', 'the key asked for time and typed nothing; the entry stays');
  }

  // No extension left: the warning says so and offers no button; the timeout stands.
  await advanceClock(ctx.server!, 40_000);
  await warningShown(ctx);
  assert.match((await page.locator('.alert--time p').textContent())!, /Mehr Zeit ist nicht möglich/);
  assert.is(await page.getByRole('button', { name: t('timeout.extend') }).count(), 0);
  assert.equal(await axeViolations(page), [], 'axe on the last warning');
  await shot(page, 'de-12-timeWarning-last');
  await advanceClock(ctx.server!, 20_000);
  await screenIs(page, 'done');
  assert.is(await page.locator('h1').textContent(), t('error.SESSION_TIMEOUT'));
  // The final screen stays a moment, then nothing of the session is left.
  await screenIs(page, 'start');
  const html = await page.content();
  assert.not.match(html, '0152');
  assert.is(await page.evaluate(() => history.length <= 2 && localStorage.length === 0 && sessionStorage.length === 0), true);
});

// The final screen stays DONE_MS (real time, on the page's own clock) after a cancel; somebody who
// changes the text size on it (still reading) gets the whole time again from then.
test('the final screen is not wiped while somebody still uses it: a change of text size gives it its whole time again (real time)', async (ctx) => {
  // A page of its own, whatever the test before left on the last one.
  await ctx.context?.close();
  const page = await openKiosk(ctx);
  await page.locator('h1').focus();
  await page.keyboard.press('Enter');
  await screenIs(page, 'phone');
  await page.getByRole('button', { name: t('button.cancel') }).click();
  await screenIs(page, 'done');
  const shown = Date.now();
  await page.waitForTimeout(DONE_MS - 3_000);
  const changed = Date.now();
  await largeText(page, true);
  // Past the time the screen had when it came, it is still there.
  await page.waitForTimeout(Math.max(0, shown + DONE_MS + 2_000 - Date.now()));
  assert.is(await page.locator('.panel').getAttribute('data-screen'), 'done', 'still on the final screen 2 s after its first time ran out');
  await screenIs(page, 'start');
  const stayed = Date.now() - changed;
  assert.ok(stayed >= DONE_MS - 500, `after the change it stayed ${stayed} ms, its whole time (${DONE_MS} ms)`);
  assert.not.ok(await page.locator('.panel.panel--large').count(), 'the next person starts in normal text');
});

test.run();
