import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { LANGUAGES, MESSAGES } from '../../web/kiosk/messages.js';
import { boxText, translator, typedExample } from '../../web/kiosk/i18n.js';
import { ERROR_MESSAGES, errorMessage } from '../../web/kiosk/errors.js';
import { ERRORS } from '../../actors/domain/errors.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every language of the panel has every message, each parses as ICU MessageFormat and takes the
// same arguments as the English reference: a missing or misspelt key fails here, not at the box.

const reference = MESSAGES.en;
const keys = Object.keys(reference).sort();

function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const e of elements) {
    if (e.type === TYPE.argument || e.type === TYPE.number || e.type === TYPE.date || e.type === TYPE.time) into.add(e.value);
    if (e.type === TYPE.select || e.type === TYPE.plural) {
      into.add(e.value);
      for (const option of Object.values(e.options)) argumentsOf(option.value, into);
    }
  }
  return into;
}

for (const language of LANGUAGES) {
  test(`${language.name} (${language.id}) has exactly the keys of the reference`, () => {
    const table = MESSAGES[language.id];
    const own = Object.keys(table).sort();
    assert.equal(keys.filter((k) => !own.includes(k)), [], 'missing keys');
    assert.equal(own.filter((k) => !keys.includes(k)), [], 'keys the reference does not have');
    for (const key of keys) assert.ok((table as Record<string, string>)[key]!.trim().length > 0, `${key} is empty`);
  });

  test(`${language.name}: every message parses and uses the reference's arguments`, () => {
    for (const key of keys) {
      const text = (MESSAGES[language.id] as Record<string, string>)[key]!;
      const own = [...argumentsOf(parse(text))].sort();
      const expected = [...argumentsOf(parse((reference as Record<string, string>)[key]!))].sort();
      assert.equal(own, expected, `${language.id} ${key}`);
    }
  });
}

test('dates, plurals and selections come out in each language', () => {
  const next = new Date(Date.UTC(2026, 10, 24, 6, 30));
  assert.match(translator('de', 'Europe/Berlin')('closed.text', { next }), 'Dienstag, 24. November 2026 um 07:30');
  assert.match(translator('en', 'Europe/Berlin')('closed.text', { next }), 'Tuesday, November 24, 2026');
  assert.match(translator('ru', 'Europe/Berlin')('entry.count', { count: 5 }), 'Введено 5 цифр');
  assert.match(translator('uk', 'Europe/Berlin')('entry.count', { count: 3 }), 'Введено 3 цифри');
  assert.is(translator('en', 'Europe/Berlin')('opening.where', { row: 2, column: 3 }), 'second row from the bottom, third from the left.');
  assert.is(translator('de', 'Europe/Berlin')('opening.heading', { id: 'B07' }), 'Fach B07 ist offen');
});

test('no message writes a typed example itself: digit groups come as {example}, kept together and left to right', () => {
  const written = LANGUAGES.flatMap((l) => Object.entries(MESSAGES[l.id]).filter(([, text]) => /\d+\s+\d+|\d+\s*…/u.test(text)).map(([key]) => `${l.id} ${key}`));
  assert.equal(written, []);
  const ar = translator('ar', 'Europe/Berlin')('birthDate.text', { example: typedExample('12 04 1980') });
  assert.ok(ar.includes('\u206612\u00a004\u00a01980\u2069'), 'one left-to-right isolate, no-break spaces between the groups');
});

test('a quarantined pickup (PICKUP_FAILED) sends the citizen to the counter in every language, not "start again"', () => {
  assert.is(errorMessage('PICKUP_FAILED'), 'error.PICKUP_FAILED');
  assert.is(errorMessage('INTERNAL'), 'error.OTHER', 'a code the panel does not explain still gets the general message');
  const location = boxText('Bürgerbüro Mitte, Willi-Becker-Allee 7');
  for (const language of LANGUAGES) {
    const t = translator(language.id, 'Europe/Berlin');
    const failed = t('error.PICKUP_FAILED', { location });
    assert.ok(failed.includes(location), `${language.id}: the counter's address is named`);
    assert.is.not(failed, t('error.OTHER', { location }), `${language.id}: its own message`);
    assert.is.not(failed, t('error.PICKUP_BUSY', { location }), `${language.id}: not "try again in a minute"`);
  }
  // In German and English: the box cannot hand it out, the counter does, and it is not the citizen's doing.
  const de = translator('de', 'Europe/Berlin')('error.PICKUP_FAILED', { location });
  assert.match(de, 'nicht ausgeben');
  assert.match(de, 'Schalter');
  assert.match(de, 'nicht an Ihnen');
  assert.not.match(de, 'beginnen Sie neu');
  const en = translator('en', 'Europe/Berlin')('error.PICKUP_FAILED', { location });
  assert.match(en, 'counter');
  assert.not.match(en, 'start again');
});

test('the panel explains only codes of the box\'s error catalog, and takes no other (a renamed code fails the typecheck too)', () => {
  assert.ok(Object.keys(ERROR_MESSAGES).length > 10, 'the panel explains the session\'s problems');
  assert.equal(Object.keys(ERROR_MESSAGES).filter((code) => !Object.hasOwn(ERRORS, code)), [], 'codes the catalog does not have');
  // @ts-expect-error — not a catalog code: `npm run typecheck` fails if errorMessage takes any string
  assert.is(errorMessage('SOMETHING_NEW'), 'error.OTHER');
  // @ts-expect-error — nor may the map name one
  const typo: typeof ERROR_MESSAGES = { AUTH_FAILD: 'error.AUTH_FAILED' };
  assert.ok(typo);
});

test('the panel writes no emoji (a character shown as an emoji by default, or asked to be one): a panel without an emoji font shows an empty box for one (the speaker was such a box)', () => {
  const emoji = /[\p{Emoji_Presentation}\uFE0F]/u;
  const found: string[] = [];
  for (const language of LANGUAGES) {
    for (const [key, text] of Object.entries(MESSAGES[language.id])) if (emoji.test(text)) found.push(`${language.id} ${key}: ${text}`);
  }
  for (const dir of [join('web', 'kiosk'), join('web', 'shared')]) {
    for (const file of readdirSync(dir).filter((f) => /\.(tsx?|css)$/.test(f))) {
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .forEach((line, i) => emoji.test(line) && found.push(`${join(dir, file)}:${i + 1}: ${line.trim()}`));
    }
  }
  assert.equal(found, []);
});

test('Arabic is written right to left, every other language left to right', () => {
  assert.equal(
    LANGUAGES.filter((l) => l.dir === 'rtl').map((l) => l.id),
    ['ar'],
  );
});

test.run();
