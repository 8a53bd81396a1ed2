import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BoardKind } from '../../drivers/layout.js';
import { advance, BOARD_ADDRESS, boardRig } from './helpers.js';

for (const kind of ['pcf8574', 'pcf8574a'] as const satisfies readonly BoardKind[]) {
  const PCF = suite(`${kind} driver: exact bus transcript`);
  const A = BOARD_ADDRESS[kind];

  PCF('init writes one byte of all ones: locks released (active-low), door pins readable', async () => {
    const { board, bus } = boardRig(kind);
    await board.start();
    assert.equal(bus.lines(), [['w', A, null, [0xff]]]);
  });

  PCF('an unlock pulls the lock pin low for the pulse length, then writes all ones again', async () => {
    const { board, bus, clock } = boardRig(kind);
    await board.start();
    bus.resetTranscript();
    const unlock = board.pulse('A02');
    await advance(clock, 300);
    await unlock;
    assert.equal(bus.lines(), [
      ['w', A, null, [0xfd]],
      ['w', A, null, [0xff]],
    ]);
    assert.equal(bus.transcript.map((t) => t.clocks), [20, 20]);
  });

  PCF('a poll is one byte read; closed doors pull P4 and P5 low', async () => {
    const { board, bus } = boardRig(kind);
    await board.start();
    bus.resetTranscript();
    await board.pollDoors();
    assert.equal(bus.lines(), [['r', A, null, [0xcf]]]);
  });

  PCF('shutdown writes all ones even when the shadow already says so', async () => {
    const { board, bus } = boardRig(kind);
    await board.start();
    bus.resetTranscript();
    await board.shutdown();
    assert.equal(bus.lines(), [['w', A, null, [0xff]]]);
  });

  PCF.run();
}
