import * as assert from 'uvu/assert';
import { start, type Running } from '../api/support.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';

// The box serves its own pages with everything they load, from itself: shown in a real browser on
// both servers.
for (const engine of ['yoga', 'mercurius'] as const) {
  const test = suiteNeeding<{ server?: Running }>(`pages on ${engine}`, BROWSER, {});

  test.before(async (ctx) => {
    await ensureWebBuilt();
    ctx.server = await start(engine);
  });
  test.after(async (ctx) => {
    await ctx.server?.close();
  });

  test('each page loads its bundle from the box and renders, with no request to another host', async ({ server }) => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(server!.base)) foreign.push(r.url());
      });
      for (const [path, heading] of [
        ['/kiosk/1', 'Dokument abholen'],
        ['/staff', 'Ausgabebox — Personal'],
        ['/monitor', 'Ausgabebox — Überwachung'],
      ] as const) {
        const response = await page.goto(server!.base + path);
        assert.is(response?.status(), 200, path);
        assert.match(response!.headers()['content-security-policy'] ?? '', "default-src 'self'");
        assert.is(response!.headers()['cache-control'], 'no-store');
        // The kiosk shows its start screen once its connection to the box is up.
        await page.locator('h1', { hasText: heading }).waitFor({ timeout: 10_000 });
        assert.match(await page.locator('h1').textContent() ?? '', heading);
      }
      assert.equal(foreign, []);
    } finally {
      await browser.close();
    }
  });

  test('a kiosk id the box does not have and a path outside the bundle are 404', async ({ server }) => {
    assert.is((await fetch(server!.base + '/kiosk/99')).status, 404);
    assert.is((await fetch(server!.base + '/assets/..%2Fbuild.mjs')).status, 404);
    assert.is((await fetch(server!.base + '/assets/nope.js')).status, 404);
  });

  test.run();
}
