/**
 * The citizen's panel (web/kiosk) in Chromium against a box on this machine.
 *
 * 1. Bundle: the kiosk's JavaScript gzipped (aim ≤ 80 kB), against a minimal Preact page bundled
 *    with the same esbuild options in this run (the framework's floor).
 * 2. Keypress → next screen: on the phone step, Enter after the number until the PIN screen is in
 *    the DOM and the next animation frame ran (a mutation and a box round trip over graphql-ws).
 *    Baseline: a digit key until it is echoed on screen (the page alone, no round trip). p50/p95
 *    over fresh sessions (start, number, Enter, cancel), at normal speed and with the CPU
 *    throttled 4× (CDP Emulation.setCPUThrottlingRate — a Raspberry Pi-class panel). Aim: < 100 ms.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { createBox } from '../src/box.js';
import { defaultDistDir } from '../src/server/pages.js';
import { createServer } from '../src/server/index.js';
import { ensureWebBuilt, launchChromium } from '../test/support/browser.js';
import { hasProgram } from '../test/support/requires.js';
import { benchCompartments, median, percentile, ROOT, row, TOKENS, type BenchContext, type Row } from './lib.js';

/**
 * In the page: presses `key` and resolves with the ms until `target` holds and the next frame ran.
 * (A string, not a function: tsx would wrap the function's inner names in a helper the page lacks.)
 */
const TIME_KEY = `(async ({ key, target }) => {
  const entryLength = () => document.querySelector('.entry__value')?.textContent?.length ?? 0;
  const before = entryLength();
  const reached = () => target === 'echo' ? entryLength() === before + 1 : document.querySelector('.panel')?.getAttribute('data-screen') === target.screen;
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('panel bench: ' + key + ' never reached ' + JSON.stringify(target))), 10000);
    let t0 = 0;
    const observer = new MutationObserver(() => {
      if (!reached()) return;
      observer.disconnect();
      clearTimeout(timer);
      requestAnimationFrame(() => resolve(performance.now() - t0));
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    t0 = performance.now();
    document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
    document.dispatchEvent(new KeyboardEvent('keyup', { key, bubbles: true, cancelable: true }));
  });
})`;

function timeKey(page: Page, key: string, target: 'echo' | { screen: string }): Promise<number> {
  return page.evaluate(`${TIME_KEY}(${JSON.stringify({ key, target })})`) as Promise<number>;
}

const screenOf = (page: Page) => page.locator('.panel').getAttribute('data-screen');

/** One session: start, the number (the last digit timed as the echo), Enter timed to the PIN screen, cancel. */
async function sample(page: Page): Promise<{ echo: number; step: number }> {
  await page.keyboard.press('Enter');
  await page.waitForSelector('.panel[data-screen="phone"]');
  await page.keyboard.type('01522881738');
  await page.waitForFunction(() => document.querySelector('.entry__value')?.textContent?.replace(/\D/g, '').length === 11);
  const echo = await timeKey(page, '6', 'echo');
  const step = await timeKey(page, 'Enter', { screen: 'pin' });
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => ['start', 'done'].includes(document.querySelector('.panel')?.getAttribute('data-screen') ?? ''));
  if ((await screenOf(page)) === 'done') await page.keyboard.press('Enter');
  await page.waitForSelector('.panel[data-screen="start"]');
  return { echo, step };
}

/** kiosk.js gzipped, and a minimal Preact page bundled with the same options. */
async function bundleSizes(): Promise<{ kiosk: number; floor: number }> {
  const kiosk = gzipSync(readFileSync(join(defaultDistDir(), 'kiosk.js')), { level: 9 }).length;
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-floor-'));
  try {
    const entry = join(dir, 'main.tsx');
    writeFileSync(entry, "import { render } from 'preact';\nimport { useState } from 'preact/hooks';\nfunction App() { const [n, set] = useState(0); return <button onClick={() => set(n + 1)}>{n}</button>; }\nrender(<App />, document.body);\n");
    const out = await build({
      entryPoints: [entry], bundle: true, format: 'esm', minify: true, write: false, target: ['chrome100'],
      jsx: 'automatic', jsxImportSource: 'preact', nodePaths: [join(ROOT, 'node_modules')], logLevel: 'warning', legalComments: 'none',
    });
    return { kiosk, floor: gzipSync(Buffer.from(out.outputFiles[0]!.contents), { level: 9 }).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  await ensureWebBuilt();
  const sizes = await bundleSizes();
  log(`panel: kiosk.js ${(sizes.kiosk / 1024).toFixed(1)} kB gzipped, a minimal Preact page ${(sizes.floor / 1024).toFixed(1)} kB`);
  const rows: Row[] = [
    row('citizen\'s panel bundle', 'kiosk.js, minified and gzipped', sizes.kiosk / 1024, 'kB', 'a minimal Preact page, bundled alike', sizes.floor / 1024,
      'aim ≤ 80 kB; the rest is the panel (seven languages of ICU messages, intl-messageformat, graphql-ws, the box front)'),
  ];
  if (!hasProgram(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    log('panel: no chromium here (apt-get install chromium); keypress figures skipped');
    return rows;
  }
  const box = await createBox({ storage: 'memory:', compartments: benchCompartments(48), hardware: 'simulated', hoursPreset: 'always' });
  const server = createServer(box, { tokens: TOKENS, engine: 'yoga', logError: () => {}, kioskClients: { [box.config.kiosks[0]!]: ['127.0.0.1'] } });
  const { url } = await server.listen(0, '127.0.0.1');
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1024 } });
    const page = await context.newPage();
    await page.goto(url.replace(/\/graphql$/, '') + `/kiosk/${box.config.kiosks[0]}`);
    await page.waitForSelector('.panel[data-screen="start"]');
    const cdp = await context.newCDPSession(page);
    const n = quick ? 8 : 40;
    for (const rate of [1, 4]) {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      await sample(page); // warm-up
      const echo: number[] = [];
      const step: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = await sample(page);
        echo.push(s.echo);
        step.push(s.step);
      }
      log(`panel (${rate}× CPU): Enter → PIN screen p50 ${median(step).toFixed(1)} ms, p95 ${percentile(step, 95).toFixed(1)} ms; digit echo p95 ${percentile(echo, 95).toFixed(1)} ms`);
      const B = `citizen's panel in Chromium, ${rate === 1 ? 'full speed' : `CPU throttled ${rate}×`}`;
      rows.push(
        row(B, 'keypress → next screen (Enter → PIN screen), p50', median(step), 'ms', 'keypress → digit echoed, p50', median(echo), `${n} sessions; mutation over graphql-ws, the box's answer, render, next frame`),
        row(B, 'keypress → next screen (Enter → PIN screen), p95', percentile(step, 95), 'ms', 'keypress → digit echoed, p95', percentile(echo, 95), 'aim < 100 ms'),
      );
    }
  } finally {
    await browser.close();
    await server.close();
    await box.close();
  }
  return rows;
}
