import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { start, type Running } from '../api/support.js';
import { readyPickup } from '../helpers.js';
import { BROWSER, ensureWebBuilt, launchChromium } from '../support/browser.js';
import { suiteNeeding, type Needed } from '../support/requires.js';
import { renderSpeech } from '../../src/server/speech.js';
import { translator } from '../../web/kiosk/i18n.js';
import { LANGUAGES } from '../../web/kiosk/messages.js';
import { until } from './until.js';

// Speech output must really sound (EN 301 549 5.1.3): each language's prompts rendered by
// espeak-ng are speech-length and not silent as sox measures them; in the browser every screen is
// spoken in the page's language and entered digits never go through the speaker.

const ESPEAK: Needed = { program: 'espeak-ng', install: 'apt-get install espeak-ng' };
const SOX: Needed = { program: 'sox', install: 'apt-get install sox' };

/** Length (s) and RMS amplitude of a WAV file, as `sox FILE -n stat` reports them. */
function measure(wav: Buffer): { seconds: number; rms: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-speech-'));
  try {
    const file = join(dir, 'clip.wav');
    writeFileSync(file, wav);
    // sox prints its statistics on stderr.
    const text = execFileSync('sh', ['-c', 'sox "$1" -n stat 2>&1', 'sh', file], { encoding: 'utf8' });
    const seconds = Number(/Length \(seconds\):\s+([\d.]+)/.exec(text)?.[1]);
    const rms = Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(text)?.[1]);
    return { seconds, rms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const clips = suiteNeeding('kiosk speech clips', [ESPEAK, SOX]);
for (const language of LANGUAGES) {
  clips(`${language.name}: the start prompt and an error are rendered as audible speech of fitting length`, async () => {
    const t = translator(language.id, 'Europe/Berlin');
    for (const text of [`${t('start.heading')}. ${t('start.text')}`, t('error.AUTH_FAILED')]) {
      const { seconds, rms } = measure(await renderSpeech(language.tag, text));
      // About 150 words a minute: a prompt of this size lasts seconds, not milliseconds or minutes.
      assert.ok(seconds > 1.5 && seconds < 40, `${language.id}: ${seconds} s`);
      assert.ok(rms > 0.02, `${language.id}: RMS ${rms} — silent`);
    }
  });
}
clips('a language without a voice is refused', async () => {
  const refused = await renderSpeech('xx', 'Hallo').then(
    () => null,
    (error: Error) => error.message,
  );
  assert.is(refused, 'no voice for xx');
});
clips.run();

interface Ctx {
  server?: Running;
  browser?: Browser;
  page?: Page;
  spoken?: Array<{ text: string; lang: string; private: boolean }>;
  clips?: Array<{ status: number; type: string }>;
}
const page = suiteNeeding<Ctx>('kiosk speech in the browser', [...BROWSER, ESPEAK], {});
page.before(async (ctx) => {
  await ensureWebBuilt();
  ctx.server = await start('yoga', { kioskClients: { '1': ['127.0.0.1'] } });
  ctx.browser = await launchChromium();
  const context = await ctx.browser.newContext();
  ctx.spoken = [];
  ctx.clips = [];
  await context.exposeFunction('__spoken', (d: { text: string; lang: string; private: boolean }) => ctx.spoken!.push(d));
  await context.addInitScript(() => {
    window.addEventListener('kiosk-speech', (e) => (window as unknown as { __spoken: (d: unknown) => void }).__spoken((e as CustomEvent).detail));
  });
  ctx.page = await context.newPage();
  ctx.page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/speech') ctx.clips!.push({ status: r.status(), type: r.headers()['content-type'] ?? '' });
  });
});
page.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.server?.close();
});

const screenIs = (p: Page, screen: string) => p.waitForSelector(`.panel[data-screen="${screen}"]`, { timeout: 20_000 });
const lastSpoken = (ctx: Ctx) => ctx.spoken!.at(-1);

page('holding Help switches speech on without sight; every screen is spoken in its language; digits are never spoken aloud', async (ctx) => {
  const p = ctx.page!;
  const t = translator('de', 'Europe/Berlin');
  const { pin, compartmentId } = await readyPickup(ctx.server!, 'V-2026-0900');
  await p.goto(ctx.server!.base + '/kiosk/1');
  await screenIs(p, 'start');
  assert.equal(ctx.spoken, [], 'silent until asked');
  await p.keyboard.down('F1');
  await p.waitForTimeout(2_300);
  await p.keyboard.up('F1');
  await until(() => ctx.spoken!.some((s) => s.text.startsWith(t('start.heading'))), 'the start screen is spoken');
  assert.is(lastSpoken(ctx)!.lang, 'de');

  await p.keyboard.press('Enter');
  await screenIs(p, 'phone');
  await until(() => lastSpoken(ctx)?.text.startsWith(t('phone.heading')) ?? false, 'the phone screen is spoken');
  const before = ctx.spoken!.length;
  await p.keyboard.type('015228817386');
  await until(() => ctx.spoken!.length >= before + 12, 'each digit is acknowledged');
  assert.ok(ctx.spoken!.slice(before).every((s) => s.text === t('speech.digit')), 'only "digit entered" through the speaker');
  await p.keyboard.press('Enter');
  await screenIs(p, 'pin');
  await p.keyboard.type(pin);
  await p.keyboard.press('Enter');
  await screenIs(p, 'factor');
  await until(() => lastSpoken(ctx)?.text.startsWith(t('factor.heading')) ?? false, 'the factor screen is spoken');

  // Headphones in: digits are read back privately.
  await p.keyboard.press('F8');
  await p.keyboard.press('2');
  await screenIs(p, 'birthDate');
  const mark = ctx.spoken!.length;
  await p.keyboard.type('12041980');
  await until(() => ctx.spoken!.slice(mark).filter((s) => /^\d$/.test(s.text)).length === 8, 'the digits are read back in private');
  assert.ok(ctx.spoken!.slice(mark).filter((s) => /^\d$/.test(s.text)).every((s) => s.private), 'digits only through headphones');
  await p.keyboard.press('Enter');
  await screenIs(p, 'opening');
  await until(() => ctx.spoken!.some((s) => s.text.startsWith(t('opening.heading', { id: compartmentId }))), 'the open compartment is spoken');

  const speaker = ctx.spoken!.filter((s) => !s.private);
  for (const secret of ['015228817386', pin, '12041980']) assert.not.ok(speaker.some((s) => s.text.replace(/\D/g, '').includes(secret)), `${secret} never aloud`);
  assert.ok(ctx.spoken!.every((s) => s.lang === 'de'));
  // Chromium here has no voices: the box rendered the clips.
  assert.ok(ctx.clips!.some((c) => c.status === 200 && c.type === 'audio/wav'), JSON.stringify(ctx.clips!.slice(0, 3)));
  ctx.server!.hw.locks.openDoor(compartmentId);
  await ctx.server!.box.idle();
  await screenIs(p, 'done');
  ctx.server!.hw.locks.closeDoor(compartmentId);
});

page('in Arabic the screen is spoken in Arabic', async (ctx) => {
  const p = ctx.page!;
  await p.keyboard.press('Enter');
  await screenIs(p, 'start');
  await p.getByRole('button', { name: 'العربية' }).click();
  const t = translator('ar', 'Europe/Berlin');
  await until(() => lastSpoken(ctx)?.lang === 'ar' && lastSpoken(ctx)!.text.startsWith(t('start.heading')), 'Arabic start screen spoken');
});

page.run();
