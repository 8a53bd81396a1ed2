import { DriverError } from '../ports.js';
import type { I2cPort, I2cTransfers } from './port.js';

/**
 * One serial queue per physical bus. A multi-step sequence (configure a chip, write then read)
 * runs as one transaction: nothing from another caller interleaves inside it. Transactions run
 * in the order they were asked for; a failed one does not stop the queue.
 */
export class I2cBusQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly busNumber: number,
    private readonly port: I2cPort,
  ) {}

  /** Runs `work` with exclusive use of the bus. The `tx` handle is dead once `work` settles. */
  transaction<T>(work: (tx: I2cTransfers) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      let open = true;
      const tx = this.scope(() => open);
      try {
        return await work(tx);
      } finally {
        open = false;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A view of the port that refuses use outside its transaction, so a leaked handle cannot interleave. */
  private scope(isOpen: () => boolean): I2cTransfers {
    const port = this.port;
    const check = (): void => {
      if (!isOpen()) throw new DriverError('I2C_TX_CLOSED', `bus ${this.busNumber}: transfer outside its transaction`);
    };
    return {
      readByte: async (a, r) => (check(), port.readByte(a, r)),
      writeByte: async (a, r, b) => (check(), port.writeByte(a, r, b)),
      readWord: async (a, r) => (check(), port.readWord(a, r)),
      writeWord: async (a, r, w) => (check(), port.writeWord(a, r, w)),
      readI2cBlock: async (a, r, n, buf) => (check(), port.readI2cBlock(a, r, n, buf)),
      writeI2cBlock: async (a, r, n, buf) => (check(), port.writeI2cBlock(a, r, n, buf)),
      receiveByte: async (a) => (check(), port.receiveByte(a)),
      sendByte: async (a, b) => (check(), port.sendByte(a, b)),
    };
  }
}
