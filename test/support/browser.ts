import { chromium, type Browser } from 'playwright-core';
import { buildWeb } from '../../web/build.mjs';
import { CHROMIUM, type Needed } from './requires.js';

/** What a browser test needs from the machine. */
export const BROWSER: readonly Needed[] = [CHROMIUM];

let built: Promise<unknown> | null = null;
/** Builds the pages once per test process (into web/dist, as `npm start` does). */
export function ensureWebBuilt(): Promise<unknown> {
  built ??= buildWeb();
  return built;
}

/**
 * Debian's Chromium, headless. The flags keep it from reaching for the network (this machine and a
 * city office have none) and let it run as root in a container.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
