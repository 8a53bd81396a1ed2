import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyOrder } from '../../src/persistence/key-order.js';

// The claims of the shared store (a PIN's single use, a compartment's load) are made and given
// back key by key in the order the box asked: a release never lands before the claim asked before
// it, however long that claim takes (SQLite retries a statement while another process holds the
// lock). Here the store is a list of calls the test lets finish one by one.

/** A call that finishes when the test says, noting when it starts. */
function controlled(log: string[], name: string) {
  let finish!: (ok: boolean) => void;
  const call = () => {
    log.push(`${name} starts`);
    return new Promise<string>((resolve, reject) => (finish = (ok) => (ok ? resolve(name) : reject(new Error(`${name} failed`)))));
  };
  return { call, finish: (ok = true) => finish(ok) };
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a release asked while the claim on its key is still running starts only after that claim finished', async () => {
  const order = new KeyOrder();
  const log: string[] = [];
  const claim = controlled(log, 'claim pin:P1');
  const release = controlled(log, 'release pin:P1');
  const other = controlled(log, 'claim pin:P2');
  const claimed = order.run('pin:P1', claim.call);
  const released = order.run('pin:P1', release.call);
  const otherClaimed = order.run('pin:P2', other.call);
  await turn();
  assert.equal(log, ['claim pin:P1 starts', 'claim pin:P2 starts'], 'the release waits; another key does not');
  claim.finish();
  assert.is(await claimed, 'claim pin:P1');
  await turn();
  assert.equal(log.at(-1), 'release pin:P1 starts');
  release.finish();
  other.finish();
  assert.is(await released, 'release pin:P1');
  assert.is(await otherClaimed, 'claim pin:P2');
  await turn();
  assert.is(order.busy, 0, 'nothing kept once every call finished');
});

test('a call that fails still lets the next one on its key run, and fails for its caller alone', async () => {
  const order = new KeyOrder();
  const log: string[] = [];
  const claim = controlled(log, 'claim');
  const release = controlled(log, 'release');
  const claimed = order.run('pin:P1', claim.call).catch((error: Error) => error.message);
  const released = order.run('pin:P1', release.call);
  await turn();
  claim.finish(false);
  assert.is(await claimed, 'claim failed');
  await turn();
  assert.equal(log, ['claim starts', 'release starts']);
  release.finish();
  assert.is(await released, 'release');
});

test.run();
