import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditHash } from '../../src/persistence/keyv-persistence.js';

// Every stored audit chain was hashed over one canonical JSON form (keys sorted by UTF-16 code
// units, keys with undefined values left out, undefined in a list as null). A box verifies the
// chain it finds, so that form may never change: this hash was computed by the first
// implementation and must come out the same from every later one.

const PREV = 'ab'.repeat(32);
const ENTRY = {
  seq: 7,
  zeta: 'ü',
  action: 'pickup.registered',
  at: 1764680000123,
  by: 'pickup/17',
  causation: null,
  skipped: undefined,
  details: {
    b: [1, 'x', null, undefined, { y: 2, a: [true, -0.5] }],
    a: { '10': 1, '2': 2, Z: 3, a: 4, é: 5, '😀': 6, ﬀ: 7 },
    empty: {},
    list: [],
  },
};

test('an audit record hashes as every stored chain was hashed', () => {
  assert.is(auditHash(PREV, ENTRY as never), '9b64e6d4a6f2f0d661043d42f6ec65d9de6c326b41f053e96ce4651041cf31bf');
});

test('a key with an undefined value hashes as a record without the key', () => {
  const { skipped: _, ...without } = ENTRY;
  assert.is(auditHash(PREV, without as never), auditHash(PREV, ENTRY as never));
});

test('the order keys were written in does not matter, their values do', () => {
  const reordered = { details: ENTRY.details, by: ENTRY.by, at: ENTRY.at, action: ENTRY.action, zeta: ENTRY.zeta, causation: null, seq: 7 };
  assert.is(auditHash(PREV, reordered as never), auditHash(PREV, ENTRY as never));
  assert.is.not(auditHash(PREV, { ...ENTRY, at: ENTRY.at + 1 } as never), auditHash(PREV, ENTRY as never));
});

test.run();
