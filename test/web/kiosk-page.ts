import * as assert from 'uvu/assert';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { HARNESS, start, type Engine, type Running } from '../api/support.js';
import { ensureWebBuilt, launchChromium } from '../support/browser.js';
import type { ServerOptions } from '../../src/server/index.js';
import { LANGUAGES, type LanguageId } from '../../web/kiosk/messages.js';

// What the kiosk browser suites share: a box serving the panel to 127.0.0.1, one Chromium whose
// speech is logged, and axe with the tags of the accessibility bar.

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export interface KioskCtx {
  server?: Running;
  browser?: Browser;
  context?: BrowserContext;
  page?: Page;
  spoken?: Array<{ text: string; lang: string; private: boolean }>;
}

/** Starts the box and the browser; `viewport` as a panel's screen. */
export async function openKiosk(ctx: KioskCtx, engine: Engine = 'yoga', viewport = { width: 1280, height: 1024 }, options: Partial<ServerOptions> = {}): Promise<Page> {
  await ensureWebBuilt();
  ctx.server ??= await start(engine, { kioskClients: { '1': ['127.0.0.1'] }, ...options });
  ctx.browser ??= await launchChromium();
  ctx.context = await ctx.browser.newContext({ viewport });
  ctx.spoken = [];
  await ctx.context.exposeFunction('__spoken', (d: { text: string; lang: string; private: boolean }) => ctx.spoken!.push(d));
  await ctx.context.addInitScript(() => {
    window.addEventListener('kiosk-speech', (e) => (window as unknown as { __spoken: (d: unknown) => void }).__spoken((e as CustomEvent).detail));
  });
  ctx.page = await ctx.context.newPage();
  await ctx.page.goto(ctx.server.base + '/kiosk/1');
  await screenIs(ctx.page, 'start');
  return ctx.page;
}

export async function closeKiosk(ctx: KioskCtx): Promise<void> {
  await ctx.browser?.close();
  await ctx.server?.close();
}

export const screenIs = (page: Page, screen: string) => page.waitForSelector(`.panel[data-screen="${screen}"]`, { timeout: 20_000 });

/** Moves the box's simulated clock through the harness API, as a test operator would. */
export async function advanceClock(server: Running, ms: number): Promise<void> {
  const r = await server.gql(`mutation($ms: Int!) { advanceClock(ms: $ms) }`, { ms }, HARNESS);
  assert.is(r.errors, undefined, JSON.stringify(r.errors));
}

const SHOTS = process.env.KIOSK_SCREENSHOTS === '1' ? new URL('../../docs/kiosk/', import.meta.url).pathname : null;

/**
 * With KIOSK_SCREENSHOTS=1, the screen as it is now goes to docs/kiosk/<name>.png; a German one
 * (`de-…`) is also shown in Arabic, right to left, as `ar-…`, and the page goes back to German.
 * Without screenshots nothing is switched, so normal runs cost nothing more.
 */
export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  await page.screenshot({ path: `${SHOTS}${name}.png` });
  if (!name.startsWith('de-')) return;
  const screen = await page.locator('.panel').getAttribute('data-screen');
  await inLanguage(page, 'ar');
  assert.is(await page.evaluate(() => document.documentElement.dir), 'rtl', 'Arabic reads right to left');
  assert.is(await page.locator('.panel').getAttribute('data-screen'), screen, 'the language changed, not the screen');
  await page.screenshot({ path: `${SHOTS}ar-${name.slice(3)}.png` });
  await inLanguage(page, 'de');
}

/** Switches the page's language with its own button, as a citizen would, and waits for it. */
async function inLanguage(page: Page, lang: LanguageId): Promise<void> {
  const language = LANGUAGES.find((l) => l.id === lang)!;
  await page.locator('.langs').getByRole('button', { name: language.name, exact: true }).click();
  await page.waitForFunction((tag) => document.documentElement.lang === tag, language.tag);
}

/** axe violations on the page as it is now, as `rule: targets` lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(AXE_TAGS).options({ resultTypes: ['violations'] }).analyze();
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Whether the whole page, footer included, fits the viewport without scrolling. */
export const fitsViewport = (page: Page) => page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight);

/** Polls until `fn` holds (up to 10 s), then asserts it. */
export async function until(fn: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(await fn(), what);
}
