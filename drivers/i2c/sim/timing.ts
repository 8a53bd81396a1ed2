/**
 * Bus-time model of a 7-bit-address I2C transfer, counted in SCL clocks: START and STOP one
 * each, every byte 8 clocks plus its ACK. A register read is a write of the register address,
 * a repeated START, the address again with R/W = 1, then the data.
 *
 *   register write  S + addr + reg + data + P            = 1 + 9 + 9 + 9 + 1          = 29
 *   GPIOA+GPIOB     S + addr + reg + Sr + addr + 2 data + P = 1 + 9 + 9 + 1 + 9 + 18 + 1 = 48
 */
export interface TransferShape {
  /** bytes after the address byte in the write phase (register + data); 0 for a bare read */
  written: number;
  /** bytes read back; 0 for a pure write */
  read: number;
}

const START = 1;
const STOP = 1;
const BYTE = 9;

export function transferClocks({ written, read }: TransferShape): number {
  let clocks = START + BYTE + written * BYTE;
  if (read > 0) clocks += (written > 0 ? START + BYTE : 0) + read * BYTE;
  return clocks + STOP;
}

/** Duration in microseconds of `clocks` SCL periods at `kHz`. */
export function clocksToMicros(clocks: number, kHz: number): number {
  return (clocks * 1000) / kHz;
}

/** One register written (energise or release a lock): the physical minimum of an unlock is two of these. */
export const REGISTER_WRITE_CLOCKS = transferClocks({ written: 2, read: 0 });
/** Both GPIO ports of an MCP23017 read in one sequential transfer: the minimum per board and poll. */
export const TWO_REGISTER_READ_CLOCKS = transferClocks({ written: 1, read: 2 });
/** Clocks spent when nobody acknowledges the address: START, address, STOP. */
export const ADDRESS_NACK_CLOCKS = START + BYTE + STOP;
