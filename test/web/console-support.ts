import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { createBox, type Box } from '../../src/box.js';
import { demoLayout } from '../../drivers/layout.js';
import { createMercuriusServer, createYogaServer } from '../../src/server/index.js';
import { MONITOR, TOKENS, type Engine } from '../api/support.js';

/**
 * A real box for the console's browser tests: the register-level simulation (MCP23017 boards on
 * simulated I2C buses, a physical world of doors behind them) on the real clock — the page sees
 * pulses, polling and SMS exactly as it would on a running box — served by a real server.
 */
export interface ConsoleBox {
  box: Box;
  base: string;
  close(): Promise<void>;
}

export async function consoleBox(engine: Engine = 'yoga', compartments = 56, config: Record<string, unknown> = {}): Promise<ConsoleBox> {
  const box = await createBox({ storage: 'memory:', layout: demoLayout(compartments), hardware: 'i2c-sim', hoursPreset: 'always', kiosks: ['1', '2'], ...config });
  const server = (engine === 'yoga' ? createYogaServer : createMercuriusServer)(box, { tokens: TOKENS, harness: true, logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    box,
    base: url.replace(/\/graphql$/, ''),
    async close() {
      await server.close();
      await box.close();
    },
  };
}

/** Opens `path` in a fresh context and signs in with `token` as a person would. */
export async function signedIn(browser: Browser, base: string, path: '/staff' | '/monitor', token: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  await page.goto(base + path);
  await page.getByLabel('Zugangsschlüssel').fill(token);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('button', { name: 'Abmelden' }).waitFor();
  return { context, page };
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** axe finds no WCAG 2.2 A/AA violation on the page as it is now (`what` names it in the failure). */
export async function axe(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const found = result.violations.map((v) => `${v.id}: ${v.nodes.length}× ${v.nodes[0]?.target.join(' ')} — ${v.help}`);
  assert.equal(found, [], `axe on ${what}`);
}

/** Opens one of the console's views by its navigation button. */
export const view = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name: new RegExp(`^${name}`) }).click();

/** The monitor sees the alarm `code` of `subject` among its alarms, and is offered no action on the page. */
export async function monitorSeesNoAction(browser: Browser, base: string, code: string, subject: string): Promise<void> {
  const monitor = await signedIn(browser, base, '/monitor', MONITOR);
  await view(monitor.page, 'Alarme');
  await monitor.page.locator(`[data-code="${code}"]`).filter({ hasText: `— ${subject}` }).waitFor();
  assert.is(await monitor.page.locator('main button').count(), 0, 'the monitor is offered no action');
  await monitor.context.close();
}
