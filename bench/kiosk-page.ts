/**
 * The citizen's panel in Chromium against a local box (device-level simulation, always open).
 *
 * 1. Bundle: the panel's JavaScript as served (web/dist/kiosk.js), gzipped (aim ≤ 80 kB). Baseline:
 *    a minimal Preact page bundled with the same esbuild options in this run (the framework's floor).
 * 2. Keypress → next screen: from the key's keydown in the page to the end of the main thread's
 *    work on the frame that draws the next screen (its style, layout and paint recording; not the
 *    compositor's raster and display), for keys the box must answer (Enter on the start screen →
 *    startSession → phone; Escape on the phone screen → cancelSession → done). p50/p95, also with 4×
 *    CPU throttling (a Raspberry Pi-class panel). Baseline: a key the page answers alone (Enter on
 *    the final screen → start), measured in the same run, so the ratio is the box's round trip.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { createBox } from '../src/box.js';
import { createServer } from '../src/server/index.js';
import { hasProgram } from '../test/support/requires.js';
import { ensureWebBuilt, launchChromium } from '../test/support/browser.js';
import { median, percentile, ROOT, row, TOKENS, type BenchContext, type Row } from './lib.js';

/** Presses `key` and resolves with ms from its keydown to the end of the main-thread work of the frame that draws `screen`. */
async function timedKey(page: Page, key: string, screen: string): Promise<number> {
  // A source string, not a function: the TypeScript loader would wrap a function with helpers the
  // page lacks. The watch is in place before the key goes out.
  await page.evaluate(`window.__keyTiming = new Promise((resolve) => {
    let down = 0;
    document.addEventListener('keydown', () => { down = performance.now(); }, { capture: true, once: true });
    const observer = new MutationObserver(() => {
      if (document.querySelector('.panel')?.getAttribute('data-screen') !== ${JSON.stringify(screen)}) return;
      observer.disconnect();
      // An animation frame's callbacks run before that frame's style, layout and paint (recorded
      // on the main thread, in the same task); a message posted from one is handled once they are
      // done. Raster and display on the compositor's threads come after and are not counted.
      requestAnimationFrame(() => {
        const painted = new MessageChannel();
        painted.port1.onmessage = () => resolve(performance.now() - down);
        painted.port2.postMessage(0);
      });
    });
    observer.observe(document.body, { attributes: true, subtree: true, attributeFilter: ['data-screen'] });
  }); undefined`);
  await page.keyboard.press(key);
  return (await page.evaluate('window.__keyTiming')) as number;
}

async function rounds(page: Page, count: number): Promise<{ box: number[]; keypad: number[]; local: number[] }> {
  const box: number[] = [];
  const keypad: number[] = [];
  const local: number[] = [];
  for (let i = 0; i < count; i++) {
    const phone = await timedKey(page, 'Enter', 'phone');
    box.push(phone);
    keypad.push(phone);
    box.push(await timedKey(page, 'Escape', 'done'));
    local.push(await timedKey(page, 'Enter', 'start'));
  }
  return { box, keypad, local };
}

/** A minimal Preact page bundled as web/build.mjs bundles the panel, gzipped (bytes). */
async function preactFloor(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-floor-'));
  try {
    const entry = join(dir, 'main.tsx');
    writeFileSync(entry, "import { render } from 'preact';\nimport { useState } from 'preact/hooks';\nfunction App() { const [n, set] = useState(0); return <button onClick={() => set(n + 1)}>{n}</button>; }\nrender(<App />, document.body);\n");
    const out = await build({
      entryPoints: [entry], bundle: true, format: 'esm', minify: true, write: false, target: ['chrome100'], legalComments: 'none',
      jsx: 'automatic', jsxImportSource: 'preact', nodePaths: [join(ROOT, 'node_modules')], logLevel: 'warning',
    });
    return gzipSync(Buffer.from(out.outputFiles[0]!.contents)).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  await ensureWebBuilt();
  const gzipped = gzipSync(readFileSync(join(ROOT, 'web', 'dist', 'kiosk.js'))).length / 1024;
  const floor = (await preactFloor()) / 1024;
  const rows = [row('kiosk page', 'panel JavaScript, gzipped', gzipped, 'kB', 'a minimal Preact page, bundled alike', floor, 'aim ≤ 80 kB; web/dist/kiosk.js as the box serves it (Preact, graphql-ws, intl-messageformat, all seven languages)')];
  if (!hasProgram(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    log('kiosk page: no chromium here (apt-get install chromium); keypress figures skipped');
    return rows;
  }
  const count = quick ? 15 : 50;
  const box = await createBox({ storage: 'memory:', hardware: 'simulated', hoursPreset: 'always', kiosks: ['1'] });
  const server = createServer(box, { tokens: TOKENS, engine: 'yoga', logError: () => {}, kioskClients: { '1': ['127.0.0.1'] } });
  const { url } = await server.listen(0, '127.0.0.1');
  const browser = await launchChromium();
  try {
    for (const rate of [1, 4]) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1024 } });
      const page = await context.newPage();
      if (rate > 1) await (await context.newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate });
      await page.goto(url.replace(/\/graphql$/, '') + '/kiosk/1');
      await page.waitForSelector('.panel[data-screen="start"]');
      await rounds(page, 3); // warm-up: connection, first renders, JIT
      const { box: answered, keypad, local } = await rounds(page, count);
      const label = rate === 1 ? '' : `, CPU ${rate}× slower`;
      log(`kiosk page${label}: box-answered p95 ${percentile(answered, 95).toFixed(1)} ms, local p95 ${percentile(local, 95).toFixed(1)} ms`);
      rows.push(
        row('kiosk page', `keypress → next screen p50${label}`, median(answered), 'ms', 'a key the page answers alone', median(local), `${answered.length} keys (start → phone, phone → done); aim < 100 ms at p95`),
        row('kiosk page', `keypress → next screen p95${label}`, percentile(answered, 95), 'ms', 'a key the page answers alone', percentile(local, 95), 'keydown in the page → the main thread done with the frame that draws the new screen (style, layout, paint recorded)'),
        row('kiosk page', `start → phone alone p95${label}`, percentile(keypad, 95), 'ms', 'a key the page answers alone', percentile(local, 95), `the keypad's screen, p50 ${median(keypad).toFixed(0)} ms: the box's answer, then a screen whose key words are fitted (after the warm-up from the fits found before, as on a panel in service); the baseline is another screen`),
      );
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
    await box.close();
  }
  return rows;
}
