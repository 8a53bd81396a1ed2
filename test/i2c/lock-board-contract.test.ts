import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BoardKind } from '../../drivers/layout.js';
import type { DoorEvent } from '../../drivers/ports.js';
import { advance, BOARD_ADDRESS, boardRig, rejectionCode } from './helpers.js';

/** One contract, run against every lock-board driver on its simulated chip. */
for (const kind of ['mcp23017', 'pcf8574', 'pcf8574a'] as const satisfies readonly BoardKind[]) {
  const contract = suite(`lock-board contract: ${kind}`);

  contract('start releases a lock that a crashed run left energised', async () => {
    const { board, bus, world } = boardRig(kind);
    const address = BOARD_ADDRESS[kind];
    if (kind === 'mcp23017') {
      await bus.writeByte(address, 0x00, 0x00);
      await bus.writeByte(address, 0x14, 0x01);
    } else {
      await bus.sendByte(address, 0xfe);
    }
    assert.ok(world.view('A01').energised);
    await board.start();
    assert.not.ok(world.view('A01').energised);
  });

  contract('a pulse energises only that lock, for exactly the pulse length', async () => {
    const { board, world, clock } = boardRig(kind);
    await board.start();
    const t0 = clock.now();
    const unlock = board.pulse('A01');
    await advance(clock, 1000);
    await unlock;
    assert.equal(world.view('A01').pulses, [{ start: t0, end: t0 + 300 }]);
    assert.equal(world.view('A02').pulses, []);
  });

  contract('the pulse length is configurable per lock', async () => {
    const { board, world, clock } = boardRig(kind, { lock: { pulseMs: 450 } });
    await board.start();
    const t0 = clock.now();
    const unlock = board.pulse('A02');
    await advance(clock, 1000);
    await unlock;
    assert.equal(world.view('A02').pulses, [{ start: t0, end: t0 + 450 }]);
  });

  contract('a latched door does not open; after a pulse it does', async () => {
    const { board, world, clock } = boardRig(kind);
    await board.start();
    assert.not.ok(world.open('A01'));
    const unlock = board.pulse('A01');
    await advance(clock, 300);
    await unlock;
    assert.ok(world.open('A01'));
  });

  contract('a second pulse inside the cool-down is refused with LOCK_COOLDOWN, later it is allowed', async () => {
    const { board, world, clock } = boardRig(kind, { lock: { cooldownMs: 2000 } });
    await board.start();
    const first = board.pulse('A01');
    await advance(clock, 300);
    await first;
    await advance(clock, 1999);
    assert.is(await rejectionCode(board.pulse('A01')), 'LOCK_COOLDOWN');
    await advance(clock, 1);
    const second = board.pulse('A01');
    await advance(clock, 300);
    await second;
    assert.is(world.view('A01').pulses.length, 2);
  });

  contract('a pulse while the same lock is pulsing is refused with LOCK_COOLDOWN', async () => {
    const { board, clock } = boardRig(kind);
    await board.start();
    const first = board.pulse('A01');
    await advance(clock, 100);
    assert.is(await rejectionCode(board.pulse('A01')), 'LOCK_COOLDOWN');
    await advance(clock, 200);
    await first;
  });

  contract('a pulse longer than the maximum on-time is refused before any bus write', async () => {
    const { board, bus } = boardRig(kind, { lock: { maxOnMs: 500 } });
    await board.start();
    bus.resetTranscript();
    assert.is(await rejectionCode(board.pulse('A01', 501)), 'LOCK_ON_TIME_EXCEEDED');
    assert.equal(bus.lines(), []);
  });

  contract('an unknown compartment is refused', async () => {
    const { board } = boardRig(kind);
    await board.start();
    assert.is(await rejectionCode(board.pulse('Z99')), 'UNKNOWN_COMPARTMENT');
  });

  contract('a door change is reported once it held for two polls and 50 ms', async () => {
    const { board, world, clock } = boardRig(kind);
    await board.start();
    assert.equal(await board.pollDoors(), []);
    assert.equal(board.doorStates(), new Map([['A01', 'closed'], ['A02', 'closed']]));
    world.forceOpen('A02');
    await advance(clock, 100);
    assert.equal(await board.pollDoors(), [], 'one poll is not enough');
    await advance(clock, 100);
    assert.equal(await board.pollDoors(), [{ compartment: 'A02', door: 'open' }] satisfies DoorEvent[]);
    assert.is(board.doorStates().get('A02'), 'open');
  });

  contract('a bounce shorter than the debounce is not reported', async () => {
    const { board, world, clock } = boardRig(kind);
    await board.start();
    await board.pollDoors();
    world.forceOpen('A01');
    await advance(clock, 100);
    await board.pollDoors();
    world.close('A01');
    await advance(clock, 100);
    assert.equal(await board.pollDoors(), []);
    await advance(clock, 100);
    assert.equal(await board.pollDoors(), []);
    assert.is(board.doorStates().get('A01'), 'closed');
  });

  contract('shutdown releases a lock in mid-pulse at once; the pulse then has nothing left to write', async () => {
    const { board, world, clock, bus } = boardRig(kind);
    await board.start();
    const t0 = clock.now();
    const unlock = board.pulse('A01');
    await advance(clock, 100);
    await board.shutdown();
    assert.not.ok(world.view('A01').energised);
    const writes = bus.transcript.length;
    await advance(clock, 200);
    await unlock;
    assert.is(bus.transcript.length, writes);
    assert.equal(world.view('A01').pulses, [{ start: t0, end: t0 + 100 }]);
  });

  contract.run();
}
