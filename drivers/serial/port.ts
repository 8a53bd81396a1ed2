/**
 * The narrow serial-line port the MRZ reader driver talks through. The `serialport` adapter and
 * the simulated reader device implement it; nothing else in the box knows how bytes reach a UART.
 */
export interface SerialLine {
  /** Sends bytes; resolves once they were handed to the line (drained). Rejects with READER_DISCONNECTED. */
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes as they arrive, in arbitrary chunks. Returns an unsubscribe. */
  onData(listener: (chunk: Buffer) => void): () => void;
  /** The line went away on its own (reader unplugged, pty closed). Returns an unsubscribe. */
  onClose(listener: () => void): () => void;
  close(): Promise<void>;
}

/** How to open the line; every field but the path has the usual 9600 8N1 default. */
export interface SerialSettings {
  /** e.g. /dev/ttyUSB0, /dev/serial/by-id/… */
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

export const DEFAULT_SERIAL: Omit<SerialSettings, 'path'> = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

/** Opens a line; the driver calls it at start and again to reconnect after an unplug. */
export type SerialOpener = () => Promise<SerialLine>;
