/**
 * The simulated clock keeps its timers in a heap: the order they fire in must be exactly the
 * (time, creation) order, with timers cleared, re-armed and added while others fire. Checked
 * against a plain list, over seeded random operations.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock, type TimerHandle } from '../../actors/runtime/clock.js';
import { seeded } from '../support/random.js';

test('timers fire in (time, creation) order, as a plain list would fire them, under clears and re-arms', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = seeded(seed);
    const clock = new SimulatedClock(0);
    const fired: string[] = [];
    const live = new Map<string, { handle: TimerHandle; at: number; order: number }>();
    let order = 0;
    let names = 0;
    const arm = (at: number): void => {
      const name = `t${names++}`;
      const handle = clock.setTimer(at, () => {
        // The plain list's answer: of all pending timers, the earliest, and of equal times the first set.
        let first: string | null = null;
        for (const [n, t] of live) {
          const f = first === null ? null : live.get(first)!;
          if (f === null || t.at < f.at || (t.at === f.at && t.order < f.order)) first = n;
        }
        assert.is(name, first, `seed ${seed}: fired out of order`);
        assert.is(clock.now(), at);
        fired.push(name);
        live.delete(name);
        // Work a timer starts sets timers of its own, some at the very same time.
        if (rnd() < 0.3) arm(clock.now() + Math.floor(rnd() * 3) * 10);
      });
      live.set(name, { handle, at, order: order++ });
    };
    for (let step = 0; step < 300; step++) {
      const r = rnd();
      if (r < 0.55) arm(clock.now() + Math.floor(rnd() * 20) * 10);
      else if (r < 0.8 && live.size > 0) {
        // clear one (and sometimes re-arm it, as a session's timeout is on every input)
        const names = [...live.keys()];
        const name = names[Math.floor(rnd() * names.length)]!;
        clock.clearTimer(live.get(name)!.handle);
        live.delete(name);
        if (rnd() < 0.5) arm(clock.now() + Math.floor(rnd() * 20) * 10);
      } else {
        // What a plain list says must fire now: every timer due by the target, earliest first.
        const target = clock.now() + Math.floor(rnd() * 60);
        const before = fired.length;
        await clock.advance(target - clock.now());
        const due = fired.slice(before);
        for (let i = 1; i < due.length; i++) assert.ok(due[i] !== due[i - 1], `seed ${seed}: ${due[i]} fired twice`);
        for (const t of live.values()) assert.ok(t.at > target, `seed ${seed}: a timer due at ${t.at} did not fire by ${target}`);
        assert.is(clock.now(), target);
      }
    }
  }
});

test('equal times fire in the order set; a cleared timer never fires; sleeps are counted and woken', async () => {
  const clock = new SimulatedClock(1_000);
  const fired: number[] = [];
  const handles = [30, 10, 10, 20, 10].map((ms, i) => clock.setTimer(1_000 + ms, () => fired.push(i)));
  clock.clearTimer(handles[2]!);
  let woke = false;
  const sleeping = clock.sleep(15).then(() => (woke = true));
  assert.is(clock.sleepers, 1);
  await clock.advance(12);
  assert.equal(fired, [1, 4]);
  assert.is(woke, false);
  await clock.advance(100);
  await sleeping;
  assert.equal(fired, [1, 4, 3, 0]);
  assert.is(woke, true);
  assert.is(clock.sleepers, 0);
  // An aborted sleep leaves no timer behind.
  const abort = new AbortController();
  const aborted = clock.sleep(50, abort.signal);
  abort.abort();
  await aborted;
  assert.is(clock.sleepers, 0);
  assert.is(clock.nextDue(Number.MAX_SAFE_INTEGER), undefined);
});

test.run();
