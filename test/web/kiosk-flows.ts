import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { start, type Engine, type Running } from '../api/support.js';
import { oldIdCard, readyPickup } from '../helpers.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding } from '../support/requires.js';
import { translator } from '../../web/kiosk/i18n.js';
import { LANGUAGES, type LanguageId } from '../../web/kiosk/messages.js';
import { largeText, unreachableEverywhere } from './kiosk-page.js';

// The citizen's panel in a real Chromium against a real box: every language, keys only, axe on
// every screen. Screenshots of every screen go to docs/kiosk/ when KIOSK_SCREENSHOTS=1.

interface Ctx {
  server?: Running;
  browser?: Browser;
  context?: BrowserContext;
  page?: Page;
  spoken?: Array<{ text: string; lang: string; private: boolean }>;
  axe?: Array<{ screen: string; lang: string; large: boolean; violations: string[] }>;
  /** controls out of reach, by screen: `unreachableEverywhere` on every screen checked */
  reach?: Array<{ screen: string; lang: string; unreachable: string[] }>;
}

/** The panel's flows and checks for `languages`, as one suite with one browser (split over files to run in parallel). */
export function kioskSuite(name: string, engine: Engine, languages: readonly LanguageId[], firstReference: number, options: { production?: boolean } = {}): void {
  const test = suiteNeeding<Ctx>(name, BROWSER, {});
  const SHOTS = process.env.KIOSK_SCREENSHOTS === '1' ? new URL('../../docs/kiosk/', import.meta.url).pathname : null;
  const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
  let counter = 0;

  test.before(async (ctx) => {
    await ensureWebBuilt();
    // A production box runs only the page's persisted documents from the panel (src/server/persisted.ts).
    ctx.server = await start(engine, { kioskClients: { '1': ['127.0.0.1'] }, ...(options.production ? { production: true, harness: false } : {}) });
    ctx.browser = await launchChromium();
    ctx.context = await ctx.browser.newContext({ viewport: { width: 1280, height: 1024 } });
    ctx.spoken = [];
    ctx.axe = [];
    ctx.reach = [];
    await ctx.context.exposeFunction('__spoken', (detail: { text: string; lang: string; private: boolean }) => ctx.spoken!.push(detail));
    await ctx.context.addInitScript(() => {
      window.addEventListener('kiosk-speech', (e) => (window as unknown as { __spoken: (d: unknown) => void }).__spoken((e as CustomEvent).detail));
    });
    ctx.page = await ctx.context.newPage();
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  test.after(async (ctx) => {
    await ctx.browser?.close();
    await ctx.server?.close();
  });

  const screenIs = (page: Page, screen: string) => page.waitForSelector(`.panel[data-screen="${screen}"]`, { timeout: 20_000 });
  const heading = (page: Page) => page.locator('h1').textContent();

  /**
   * axe on the screen as it is now, then once more in large-text mode (switched on with the
   * panel's own button and off again); violations are collected and asserted at the end. Then
   * every control's reach, in landscape and portrait, normal and large text.
   */
  async function check(ctx: Ctx, screen: string, lang: LanguageId): Promise<void> {
    const page = ctx.page!;
    if (ctx.axe!.some((a) => a.screen === screen && a.lang === lang)) return;
    const axe = async (large: boolean) => {
      const result = await new AxeBuilder({ page }).withTags(AXE_TAGS).options({ resultTypes: ['violations'] }).analyze();
      ctx.axe!.push({ screen, lang, large, violations: result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`) });
    };
    await axe(false);
    if (SHOTS && (lang === 'de' || lang === 'ar')) await page.screenshot({ path: `${SHOTS}${lang}-${String(++counter).padStart(2, '0')}-${screen}.png` });
    await largeText(page, true);
    await axe(true);
    await largeText(page, false);
    // It switches orientation and text size and puts the focus back on the heading, so the keypad's keys reach the screen.
    ctx.reach!.push({ screen, lang, unreachable: await unreachableEverywhere(page, [lang]) });
    assert.is(await page.locator('.panel').getAttribute('data-screen'), screen, 'every look was at the same screen');
  }

  async function openPanel(ctx: Ctx, lang: LanguageId): Promise<Page> {
    const page = ctx.page!;
    await page.goto(ctx.server!.base + '/kiosk/1');
    await screenIs(page, 'start');
    const name = LANGUAGES.find((l) => l.id === lang)!.name;
    await page.getByRole('button', { name, exact: false }).first().click();
    await page.waitForFunction((tag) => document.documentElement.lang === tag, LANGUAGES.find((l) => l.id === lang)!.tag);
    return page;
  }

  /** A whole pickup by keys only, with the birth date or the old ID card; checks every screen's heading. */
  async function pickup(ctx: Ctx, lang: LanguageId, reference: string, factor: 'birthDate' | 'oldId'): Promise<void> {
    const t = translator(lang, 'Europe/Berlin');
    const server = ctx.server!;
    // A pickup that failed before must not leave the panel busy for the next one.
    const active = server.box.supervisor.view<{ active: string | null }>('kiosk/1')?.ctx.active;
    if (active && server.box.session(active)?.step !== 'done') server.box.sessionInput(active, { type: 'cancel' });
    await server.box.idle();
    const { pin, compartmentId } = await readyPickup(server, reference);
    const page = await openPanel(ctx, lang);
    assert.is(await heading(page), t('start.heading'));
    await check(ctx, 'start', lang);
    await page.keyboard.press('Enter');
    await screenIs(page, 'phone');
    assert.is(await heading(page), t('phone.heading'));
    // Keys come with no gap at all, as a keypad's own buffer or a fast hand sends them.
    await page.keyboard.type('015228817386');
    await check(ctx, 'phone', lang);
    await page.keyboard.press('Enter');
    await screenIs(page, 'pin');
    await page.keyboard.type(pin);
    // The last key is rendered a frame later: wait for six marks (or fail after 20 s, as a screen's
    // wait does: a page on a busy machine, beside another Chromium, took over 5 s), then look.
    await page.waitForFunction(() => document.querySelector('.entry__value')?.textContent?.length === 6, null, { timeout: 20_000 }).catch(() => undefined);
    assert.is(await page.locator('.entry__value').textContent(), '●●●●●●', 'the PIN is masked');
    await check(ctx, 'pin', lang);
    await page.keyboard.press('Enter');
    await screenIs(page, 'factor');
    assert.is(await heading(page), t('factor.heading'));
    await check(ctx, 'factor', lang);
    if (factor === 'birthDate') {
      await page.keyboard.press('2');
      await screenIs(page, 'birthDate');
      await page.keyboard.type('12041980');
      await page.waitForFunction(() => document.querySelector('.entry__value')?.textContent === '12.04.1980', null, { timeout: 20_000 }).catch(() => undefined);
      assert.is(await page.locator('.entry__value').textContent(), '12.04.1980');
      await check(ctx, 'birthDate', lang);
      await page.keyboard.press('Enter');
    } else {
      await page.keyboard.press('1');
      await screenIs(page, 'card');
      assert.is(await heading(page), t('card.heading'));
      await page.waitForSelector(`text=${t('card.reader', { state: 'ready' })}`);
      await check(ctx, 'card', lang);
      assert.ok(server.hw.reader.insert(oldIdCard()), 'the slot took the card');
      await server.box.idle();
    }
    await screenIs(page, 'opening');
    await page.waitForFunction((text) => document.querySelector('h1')?.textContent === text, t('opening.heading', { id: compartmentId }));
    assert.ok(await page.locator(`svg.box-front[aria-label*="${compartmentId}"]`).count(), 'the box front marks the compartment');
    await check(ctx, 'opening', lang);
    assert.ok(server.hw.locks.openDoor(compartmentId), 'the door opens');
    await server.box.idle();
    await screenIs(page, 'done');
    assert.is(await heading(page), t('done.collected'));
    await check(ctx, 'done', lang);
    server.hw.locks.closeDoor(compartmentId);
    await server.box.idle();
    assert.is(server.box.pickup(reference)!.status, 'COLLECTED');
    await page.keyboard.press('Enter');
    await screenIs(page, 'start');
  }

  let n = firstReference;
  for (const language of LANGUAGES.filter((l) => languages.includes(l.id))) {
    test(`${language.name}: a first-time citizen collects with the birth date, keys only`, async (ctx) => {
      await pickup(ctx, language.id, `V-2026-${String(++n).padStart(4, '0')}`, 'birthDate');
    });
    test(`${language.name}: a first-time citizen collects with the old ID card`, async (ctx) => {
      await pickup(ctx, language.id, `V-2026-${String(++n).padStart(4, '0')}`, 'oldId');
    });
  }

  /** Dispatches `keys` as keydown/keyup events in one task: no gap at all, not even a frame. */
  const burst = (page: Page, keys: string[]) =>
    page.evaluate((all) => {
      for (const key of all) {
        document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
        document.dispatchEvent(new KeyboardEvent('keyup', { key, bubbles: true, cancelable: true }));
      }
    }, keys);

  test('a zero-gap burst of 11 digits and Enter reaches the box intact', async (ctx) => {
    const server = ctx.server!;
    const page = await openPanel(ctx, languages[0]!);
    await page.keyboard.press('Enter');
    await screenIs(page, 'phone');
    await burst(page, [...'01701234567', 'Enter']);
    await screenIs(page, 'pin');
    const active = server.box.supervisor.view<{ active: string | null }>('kiosk/1')!.ctx.active!;
    assert.is(server.box.supervisor.view<{ phone: string | null }>(`session/${active}`)!.ctx.phone, '+491701234567');
    await page.keyboard.press('Escape');
    await screenIs(page, 'done');
    await page.keyboard.press('Enter');
    await screenIs(page, 'start');
  });

  test('a whole pickup typed as one burst, across every answer of the box, opens the compartment', async (ctx) => {
    const server = ctx.server!;
    const reference = `V-2026-${String(++n).padStart(4, '0')}`;
    const { pin, compartmentId } = await readyPickup(server, reference);
    const page = await openPanel(ctx, languages[0]!);
    // Start, number, PIN, birth date as the second factor: every key before any answer is in.
    await burst(page, ['Enter', ...'015228817386', 'Enter', ...pin, 'Enter', '2', ...'12041980', 'Enter']);
    await screenIs(page, 'opening');
    assert.ok(server.hw.locks.openDoor(compartmentId), 'the door opens');
    await server.box.idle();
    await screenIs(page, 'done');
    server.hw.locks.closeDoor(compartmentId);
    await server.box.idle();
    assert.is(server.box.pickup(reference)!.status, 'COLLECTED');
    await page.keyboard.press('Enter');
    await screenIs(page, 'start');
  });

  test('after a pickup nothing of it is left: DOM, history, storage', async (ctx) => {
    const page = ctx.page!;
    const html = await page.content();
    assert.not.match(html, '015228817386');
    assert.not.match(html, '12.04.1980');
    assert.is(await page.evaluate(() => history.length <= 2 && localStorage.length === 0 && sessionStorage.length === 0 && document.cookie === ''), true);
    assert.is(await page.evaluate(() => document.documentElement.lang), 'de', 'the next person starts in German');
    assert.is(await page.locator('.panel').getAttribute('data-screen'), 'start');
  });

  test('every control of every screen is on the screen without scrolling: landscape and portrait, normal and large text', (ctx) => {
    for (const lang of languages) assert.ok(ctx.reach!.filter((r) => r.lang === lang).length >= 8, `${lang}: every screen looked at`);
    assert.equal(ctx.reach!.filter((r) => r.unreachable.length > 0), []);
  });

  test('axe: no violations on any screen in any language, in normal and in large text', (ctx) => {
    const bad = ctx.axe!.filter((a) => a.violations.length > 0);
    for (const large of [false, true]) {
      for (const lang of languages) {
        const screens = ctx.axe!.filter((a) => a.lang === lang && a.large === large).length;
        assert.ok(screens >= 8, `${lang}${large ? ' in large text' : ''}: ${screens} screens checked`);
      }
    }
    assert.equal(bad, []);
  });

  test.run();
}
