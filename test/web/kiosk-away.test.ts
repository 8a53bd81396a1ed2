import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { TOKENS } from '../api/support.js';
import { testBox, type TestBox } from '../helpers.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { createYogaServer } from '../../src/server/index.js';
import { screenIs, toPin } from './kiosk-page.js';

// The box's server away for a moment while its box (and the session) lives on: the panel shows
// "out of order", and no key pressed there changes what waits behind it.

interface Ctx {
  t?: TestBox;
  server?: { listen(port: number, host?: string): Promise<{ url: string }>; close(): Promise<void> };
  browser?: Browser;
}
const test = suiteNeeding<Ctx>('kiosk with the box away for a moment', BROWSER, {});
test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.server?.close();
  await ctx.t?.box.close();
});

const serve = (t: TestBox) => createYogaServer(t.box, { tokens: TOKENS, harness: true, logError: () => {}, kioskClients: { '1': ['127.0.0.1'] } });
const entry = (page: Page) => page.locator('.entry__value').textContent();

test('out of order, Back and Cancel change nothing: back at the PIN step the digits typed are all there', async (ctx) => {
  await ensureWebBuilt();
  ctx.t = await testBox({ kiosks: ['1', '2'] });
  ctx.server = serve(ctx.t);
  const { url } = await ctx.server.listen(0, '127.0.0.1');
  const port = Number(new URL(url).port);
  ctx.browser = await launchChromium();
  const page = await (await ctx.browser.newContext({ viewport: { width: 1280, height: 1024 } })).newPage();
  await page.goto(url.replace(/\/graphql$/, '') + '/kiosk/1');
  await screenIs(page, 'start');
  await toPin(page, '015228817386');
  await page.keyboard.type('123');
  assert.is((await entry(page))?.trim(), '●●●');
  // Only the server goes: the box and its session stay.
  await ctx.server.close();
  await screenIs(page, 'outOfOrder');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Delete');
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
  assert.is(await page.locator('.panel').getAttribute('data-screen'), 'outOfOrder');
  ctx.server = serve(ctx.t);
  await ctx.server.listen(port, '127.0.0.1');
  await screenIs(page, 'pin');
  assert.is((await entry(page))?.trim(), '●●●', 'the three digits typed before the box went away, none taken unseen');
});

test.run();
