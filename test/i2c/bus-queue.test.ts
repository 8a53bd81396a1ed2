import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { I2cBusQueue } from '../../drivers/i2c/bus-queue.js';
import type { I2cTransfers } from '../../drivers/i2c/port.js';
import { SimulatedI2cBus } from '../../drivers/i2c/sim/bus.js';
import { SimMcp23017 } from '../../drivers/i2c/sim/mcp23017.js';
import { newClock, rejectionCode, settle } from './helpers.js';

function queueOnBus() {
  const bus = new SimulatedI2cBus(newClock());
  bus.attach(new SimMcp23017(0x20));
  return { bus, queue: new I2cBusQueue(1, bus) };
}

const queue = suite('bus queue');

queue('a transaction runs to its end before the next one starts, even across awaits', async () => {
  const { bus, queue: q } = queueOnBus();
  const first = q.transaction(async (tx) => {
    await tx.writeByte(0x20, 0x14, 0x01);
    await settle();
    await tx.writeByte(0x20, 0x15, 0x01);
  });
  const second = q.transaction((tx) => tx.writeByte(0x20, 0x14, 0x00));
  await Promise.all([first, second]);
  assert.equal(bus.lines(), [
    ['w', 0x20, 0x14, [0x01]],
    ['w', 0x20, 0x15, [0x01]],
    ['w', 0x20, 0x14, [0x00]],
  ]);
});

queue('a failed transaction does not stop the queue', async () => {
  const { bus, queue: q } = queueOnBus();
  const failing = q.transaction((tx) => tx.readByte(0x27, 0x12));
  const next = q.transaction((tx) => tx.readByte(0x20, 0x00));
  assert.is(await rejectionCode(failing), 'BOARD_MISSING');
  assert.is(await next, 0xff);
  assert.is(bus.transcript.length, 2);
});

queue('a transaction handle used after its transaction ended is refused', async () => {
  const { bus, queue: q } = queueOnBus();
  let leaked: I2cTransfers | undefined;
  await q.transaction(async (tx) => {
    leaked = tx;
  });
  assert.is(await rejectionCode(leaked!.writeByte(0x20, 0x14, 0x01)), 'I2C_TX_CLOSED');
  assert.equal(bus.lines(), []);
});

queue.run();
