/**
 * The only file that touches the `i2c-bus` native module. It is imported lazily, so the rest of
 * the box (tests, the simulated bus, CI without /dev/i2c-*) works where it cannot be built.
 */
import type { PromisifiedBus } from 'i2c-bus';
import { DriverError } from '../ports.js';
import type { I2cPort } from './port.js';

/** Opens `/dev/i2c-<busNumber>` and adapts it to the I2C port. Rejects with I2C_UNAVAILABLE. */
export async function openI2cBus(busNumber: number): Promise<I2cPort> {
  let bus: PromisifiedBus;
  try {
    const i2c = await import('i2c-bus');
    bus = await i2c.openPromisified(busNumber);
    // i2c-bus opens /dev/i2c-N lazily on the first transfer; asking for the adapter's
    // functions opens it now, so a missing bus fails here and not as a fault of some board.
    await bus.i2cFuncs();
  } catch (err) {
    throw new DriverError('I2C_UNAVAILABLE', `cannot open I2C bus ${busNumber}: ${(err as Error).message}`);
  }
  const guarded = async <T>(address: number, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw asDriverError(err, busNumber, address);
    }
  };
  return {
    readByte: (a, r) => guarded(a, () => bus.readByte(a, r)),
    writeByte: (a, r, b) => guarded(a, () => bus.writeByte(a, r, b)),
    readWord: (a, r) => guarded(a, () => bus.readWord(a, r)),
    writeWord: (a, r, w) => guarded(a, () => bus.writeWord(a, r, w)),
    readI2cBlock: (a, r, n, buf) => guarded(a, async () => (await bus.readI2cBlock(a, r, n, buf)).bytesRead),
    writeI2cBlock: (a, r, n, buf) => guarded(a, async () => (await bus.writeI2cBlock(a, r, n, buf)).bytesWritten),
    receiveByte: (a) => guarded(a, () => bus.receiveByte(a)),
    sendByte: (a, b) => guarded(a, () => bus.sendByte(a, b)),
    scan: () => bus.scan(),
    close: () => bus.close(),
  };
}

/**
 * Linux i2c-dev reports an address that nobody acknowledges as ENXIO and a NACK later in the
 * transfer as EREMOTEIO (most adapters); a hung bus or clock stretching past the limit as ETIMEDOUT.
 */
function asDriverError(err: unknown, busNumber: number, address: number): DriverError {
  const errno = (err as NodeJS.ErrnoException).code;
  const where = `bus ${busNumber}, address 0x${address.toString(16)}`;
  if (errno === 'ENXIO') return new DriverError('BOARD_MISSING', `no device acknowledges (${where})`);
  if (errno === 'ETIMEDOUT' || errno === 'EAGAIN') return new DriverError('I2C_TIMEOUT', `transfer timed out (${where})`);
  return new DriverError('I2C_NACK', `transfer failed (${where}): ${(err as Error).message}`);
}
