import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorCodeOf } from '../../web/shared/error-code.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alarmWords, byUrgency, severityWords } from '../../web/staff/alarm-text.js';
import { BoxError, codeOfProblem, problemText } from '../../web/staff/api.js';
import { severitySchema } from '../../actors/messages.js';

// Where a GraphQL error's code enters the pages, and how the staff console words a failure.

test('a GraphQL error\'s code is read as the catalog code; one without a code (a lost connection) reads as INTERNAL', () => {
  assert.is(errorCodeOf({ extensions: { code: 'PICKUP_FAILED' } }), 'PICKUP_FAILED');
  assert.is(errorCodeOf({ extensions: {} }), 'INTERNAL');
  assert.is(errorCodeOf({ extensions: { code: 42 } }), 'INTERNAL');
  assert.is(errorCodeOf({}), 'INTERNAL');
  assert.is(errorCodeOf(undefined), 'INTERNAL');
});

test('the staff console words a failure with its message and catalog code, INTERNAL for anything but a box error', () => {
  assert.is(problemText(new BoxError('PICKUP_NOT_FOUND', 'no pickup V-1')), 'no pickup V-1 (PICKUP_NOT_FOUND)');
  assert.is(problemText(new Error('socket closed')), 'socket closed (INTERNAL)');
  assert.is(codeOfProblem(new BoxError('FORBIDDEN', 'no')), 'FORBIDDEN');
  assert.is(codeOfProblem(new TypeError('x')), 'INTERNAL');
});

/** The source files of a directory, recursively. */
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));

test('every alarm the box raises is said in German in the staff console: what it means and what to do', () => {
  // The codes named where the box raises an alarm, and those a device passes on (a lock, a board, the reader).
  const raised = new Set<string>();
  for (const file of [...sources('actors'), ...sources('src')]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/raise\([^,]+,\s*'([A-Z_]+)'/g)) raised.add(m[1]!);
  }
  assert.ok(raised.size >= 15, `found ${raised.size} codes`);
  const fromDevices = ['LOCK_FAILED', 'BOARD_MISSING', 'BOARD_FAULT', 'DEVICE_UNAVAILABLE', 'READER_DISCONNECTED', 'READER_UNAVAILABLE', 'READER_TRANSFER_FAILED', 'SHREDDER_FAULT', 'STORAGE_UNAVAILABLE', 'WEBHOOK_UNDELIVERABLE'];
  const missing = [...raised, ...fromDevices].filter((code) => !alarmWords(code)?.what || !alarmWords(code)?.todo);
  assert.equal(missing, [], 'codes without German words');
  assert.is(alarmWords('NOT_A_CODE'), null);
  assert.is(alarmWords('toString'), null, 'no word from the prototype');
});

test('the staff console names each severity the box raises alarms with in its own words', () => {
  assert.equal(severitySchema.options.map(severityWords), ['ℹ Hinweis', '⚠ Warnung', '⚠ kritisch']);
});

test('open alarms are listed critical first, then warnings, then notes, the newest first within each', () => {
  const at = (h: number) => `2026-12-01T${String(h).padStart(2, '0')}:00:00.000Z`;
  const alarms = [
    { id: 'n-old', severity: 'info', raisedAt: at(8) },
    { id: 'w-old', severity: 'warning', raisedAt: at(7) },
    { id: 'c', severity: 'critical', raisedAt: at(6) },
    { id: 'n-new', severity: 'info', raisedAt: at(10) },
    { id: 'w-new', severity: 'warning', raisedAt: at(9) },
  ];
  assert.equal(byUrgency(alarms).map((a) => a.id), ['c', 'w-new', 'w-old', 'n-new', 'n-old']);
});

test.run();
