/**
 * The monitor page in Chromium with 608 compartments (benchmark layout, one column of 8 per
 * letter-digit pair), signed in with the monitor credential, on the Box view.
 *
 * 1. Paint latency: a compartment's state changes in the box (we take the moment its view is
 *    published to subscribers, i.e. the change is committed) → the changed cell is in the DOM and
 *    the main thread is done with the frame that draws it (style, layout, paint recorded; not the
 *    compositor's raster). p50/p95 over single changes, spaced
 *    out. Baseline: the same change reaching a bare graphql-ws client in this process (transport
 *    and GraphQL only, no page).
 * 2. A burst: every one of the 608 compartments changes at once (out of service, then back).
 *    Figures: time until all 608 cells are painted, and the longest main-thread stall the page
 *    saw meanwhile (a 10 ms timer's worst lateness; an idle page's worst lateness is the baseline).
 *    Device-level hardware, so no I2C poll period is in the figures.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createBox } from '../src/box.js';
import { createServer } from '../src/server/index.js';
import { hasProgram } from '../test/support/requires.js';
import { ensureWebBuilt, launchChromium } from '../test/support/browser.js';
import { benchLayout, median, percentile, row, sleep, TOKENS, type BenchContext, type Row } from './lib.js';

const epochMs = () => performance.timeOrigin + performance.now();

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  if (!hasProgram(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    log('console: no chromium here (apt-get install chromium); skipped');
    return [];
  }
  const samples = quick ? 20 : 60;
  const layout = benchLayout(608);
  const box = await createBox({ storage: 'memory:', layout, hardware: 'simulated', hoursPreset: 'always' });
  const server = createServer(box, { tokens: TOKENS, engine: 'yoga', logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  const base = url.replace(/\/graphql$/, '');
  await ensureWebBuilt();
  const browser = await launchChromium();
  const ids = box.compartments().map((c) => c.id);

  // When each compartment's view was published by the box (the committed change).
  const publishedAt = new Map<string, number>();
  const stopPublished = box.compartmentChanges.listen((v) => publishedAt.set(`${v.id}:${v.state}`, epochMs()));

  // Baseline client: the same change over graphql-ws, no page.
  const received = new Map<string, number>();
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${TOKENS.monitor}` }, retryAttempts: 0 });
  const stopClient = client.subscribe<{ compartmentChanged: { id: string; state: string } }>(
    { query: 'subscription { compartmentChanged { id state } }' },
    { next: (r) => r.data && received.set(`${r.data.compartmentChanged.id}:${r.data.compartmentChanged.state}`, epochMs()), error: () => {}, complete: () => {} },
  );

  try {
    const context = await browser.newContext({ viewport: { width: 2000, height: 1100 } });
    const page = await context.newPage();
    await page.goto(base + '/monitor');
    await page.getByLabel('Zugangsschlüssel').fill(TOKENS.monitor);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('navigation').getByRole('button', { name: /^Box/ }).click();
    await page.locator('.box-front-grid .cell').nth(607).waitFor();
    // In the page: when a cell's state attribute changes, note when the main thread is done with the frame that draws it; and watch
    // how late a 10 ms timer fires (main-thread stalls).
    await page.evaluate(() => {
      const w = window as unknown as { painted: Map<string, number>; maxLate: number; lateSince: () => void };
      w.painted = new Map();
      const grid = document.querySelector('.box-front-grid')!;
      new MutationObserver((records) => {
        const keys = records.map((r) => `${(r.target as HTMLElement).dataset.id}:${(r.target as HTMLElement).dataset.state}`);
        // The frame's callbacks run before its style, layout and paint (recorded on the main
        // thread, in the same task); a message posted from one is handled once they are done.
        requestAnimationFrame(() => {
          const painted = new MessageChannel();
          painted.port1.onmessage = () => {
            const at = performance.timeOrigin + performance.now();
            for (const k of keys) if (!w.painted.has(k)) w.painted.set(k, at);
          };
          painted.port2.postMessage(0);
        });
      }).observe(grid, { attributes: true, attributeFilter: ['data-state'], subtree: true });
      w.maxLate = 0;
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        w.maxLate = Math.max(w.maxLate, now - last - 10);
        last = now;
      }, 10);
      w.lateSince = () => void (w.maxLate = 0);
    });
    const paintedOf = async (): Promise<Map<string, number>> => new Map(await page.evaluate(() => [...(window as unknown as { painted: Map<string, number> }).painted.entries()]));

    // 1. single changes
    await sleep(500);
    const keys: string[] = [];
    for (let i = 0; i < samples; i++) {
      const id = ids[(i * 37) % ids.length]!;
      await box.setCompartmentService(id, false, 'bench', 'bench');
      keys.push(`${id}:outOfService`);
      await sleep(60);
      await box.setCompartmentService(id, true, 'bench');
      await sleep(60);
    }
    await sleep(300);
    const painted = await paintedOf();
    const paintMs = keys.map((k) => painted.get(k)! - publishedAt.get(k)!).filter(Number.isFinite);
    const wireMs = keys.map((k) => received.get(k)! - publishedAt.get(k)!).filter(Number.isFinite);
    log(`console: ${paintMs.length}/${keys.length} changes painted, p95 ${percentile(paintMs, 95).toFixed(1)} ms`);

    // 2. burst: idle stall first (baseline), then all 608 out of service at once
    await page.evaluate(() => (window as unknown as { lateSince: () => void }).lateSince());
    await sleep(1_500);
    const idleLate = await page.evaluate(() => (window as unknown as { maxLate: number }).maxLate);
    await page.evaluate(() => {
      const w = window as unknown as { lateSince: () => void; painted: Map<string, number> };
      w.lateSince();
      w.painted.clear();
    });
    const burstStart = epochMs();
    await Promise.all(ids.map((id) => box.setCompartmentService(id, false, 'bench', 'burst')));
    const burstCommitted = epochMs();
    const deadline = Date.now() + 20_000;
    let allPaintedAt = NaN;
    while (Date.now() < deadline) {
      const p = await paintedOf();
      const times = ids.map((id) => p.get(`${id}:outOfService`) ?? NaN);
      // every cell painted out of service after the burst started
      if (times.every((t) => t >= burstStart)) {
        allPaintedAt = Math.max(...times);
        break;
      }
      await sleep(50);
    }
    const wireLast = Math.max(...ids.map((id) => received.get(`${id}:outOfService`) ?? NaN)) - burstStart;
    const burstLate = await page.evaluate(() => (window as unknown as { maxLate: number }).maxLate);
    // Still responsive: a click on a view tab (which takes the 608 cells down) is answered.
    const clickStart = Date.now();
    await page.getByRole('navigation').getByRole('button', { name: /^Alarme/ }).click();
    await page.getByRole('heading', { name: 'Offene Alarme' }).waitFor();
    const clickMs = Date.now() - clickStart;
    await Promise.all(ids.map((id) => box.setCompartmentService(id, true, 'bench')));
    await context.close();

    return [
      row('console', 'monitor: box change → cell painted, p50', median(paintMs), 'ms', 'same change to a graphql-ws client, p50', median(wireMs), `${paintMs.length} changes, 608 compartments, Chromium`),
      row('console', 'monitor: box change → cell painted, p95', percentile(paintMs, 95), 'ms', 'same change to a graphql-ws client, p95', percentile(wireMs, 95), 'aim < 100 ms'),
      row('console', 'burst of 608 changes → all cells painted', allPaintedAt - burstStart, 'ms', 'the box committing the 608 changes', burstCommitted - burstStart, `one subscription, keyed cell updates; the last change reached a bare graphql-ws client after ${wireLast.toFixed(0)} ms`),
      row('console', 'burst: longest main-thread stall in the page', burstLate, 'ms', 'idle page, longest stall', idleLate, `then a tab click (switching view) answered in ${clickMs} ms`),
    ];
  } finally {
    stopPublished();
    stopClient();
    await client.dispose();
    await browser.close();
    await server.close();
    await box.close();
  }
}
