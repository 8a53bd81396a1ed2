import { DriverError, type CardData } from '../../ports.js';
import type { MrzReaderProtocol } from '../mrz-reader.js';
import type { SerialLine, SerialOpener } from '../port.js';

const LINE_END: Record<MrzReaderProtocol['lineEnd'], string> = { CR: '\r', LF: '\n', CRLF: '\r\n' };

/**
 * A serial MRZ reader at byte level, for `npm start` and tests without a pty: it speaks the
 * configured protocol on the driver's side of a serial line (present line, framed or bare TD1
 * lines, removed line) and obeys the commands it receives. The physical side — a person inserting
 * a card, the cable pulled — is its public methods. Bytes are delivered in a microtask, never
 * inside the call that sent them, as a real line would.
 */
export class SimulatedMrzReaderDevice {
  /** commands the driver sent, without line ends, in order */
  readonly commands: string[] = [];
  readonly ejected: CardData[] = [];
  readonly retained: CardData[] = [];
  card: CardData | null = null;
  /** the slot takes cards; a reader without enable/disable commands always does */
  accepting: boolean;
  private plugged = true;
  private line: { data: Set<(chunk: Buffer) => void>; close: Set<() => void>; open: boolean } | null = null;
  private inbound = '';

  constructor(
    private readonly protocol: MrzReaderProtocol,
    /** where retained cards go (the shredder's feed) */
    private readonly onRetained: (card: CardData) => void = () => {},
  ) {
    this.accepting = protocol.commands.enable === null;
  }

  /** Opens the device's line as the serialport adapter would; rejects while unplugged. */
  readonly open: SerialOpener = async () => {
    if (!this.plugged) throw new DriverError('READER_UNAVAILABLE', 'no reader on the serial port');
    const line = { data: new Set<(chunk: Buffer) => void>(), close: new Set<() => void>(), open: true };
    this.line = line;
    this.inbound = '';
    const port: SerialLine = {
      write: async (bytes) => {
        if (!line.open) throw new DriverError('READER_DISCONNECTED', 'the reader is not connected');
        this.receive(Buffer.from(bytes).toString('latin1'));
      },
      onData: (l) => (line.data.add(l), () => line.data.delete(l)),
      onClose: (l) => (line.close.add(l), () => line.close.delete(l)),
      close: async () => {
        line.open = false;
        if (this.line === line) this.line = null;
      },
    };
    return port;
  };

  /** A person pushes a card into the slot; false when the slot is closed or holds a card. */
  insert(card: CardData): boolean {
    if (!this.accepting || this.card || !this.line) return false;
    this.card = { mrz: [...card.mrz] };
    const end = LINE_END[this.protocol.lineEnd];
    const body = card.mrz.map((l) => l + end).join('');
    const present = this.protocol.presentLine !== null ? this.protocol.presentLine + end : '';
    const frame = this.protocol.frame;
    this.emit(present + (frame ? frame.start + body + frame.end : body));
    return true;
  }

  /** Any bytes, as a confused or broken reader sends them; `asCard` puts a card in the slot. */
  sendRaw(text: string, asCard = true): void {
    if (asCard) this.card = { mrz: [] };
    this.emit(text);
  }

  /** The cable is pulled: the line closes, a card stays in the slot. */
  unplug(): void {
    this.plugged = false;
    const line = this.line;
    this.line = null;
    if (!line) return;
    line.open = false;
    queueMicrotask(() => {
      for (const l of line.close) l();
    });
  }

  plug(): void {
    this.plugged = true;
  }

  private emit(text: string): void {
    const line = this.line;
    if (!line) return;
    const chunk = Buffer.from(text, 'latin1');
    queueMicrotask(() => {
      if (line.open) for (const l of line.data) l(chunk);
    });
  }

  private receive(text: string): void {
    const end = LINE_END[this.protocol.lineEnd];
    this.inbound += text;
    for (let at = this.inbound.indexOf(end); at >= 0; at = this.inbound.indexOf(end)) {
      const command = this.inbound.slice(0, at);
      this.inbound = this.inbound.slice(at + end.length);
      this.commands.push(command);
      this.obey(command);
    }
  }

  private obey(command: string): void {
    const { enable, disable, eject, retain } = this.protocol.commands;
    if (command === enable) this.accepting = true;
    else if (command === disable) this.accepting = false;
    else if (command === eject) this.actuate('eject');
    else if (command === retain) this.actuate('retain');
  }

  /** The slot mechanism moves the card out (eject) or in (retain): by command, or by a GPIO pulse. */
  actuate(action: 'eject' | 'retain'): void {
    const card = this.card;
    if (!card) return;
    this.card = null;
    if (action === 'eject') this.ejected.push(card);
    else {
      this.retained.push(card);
      this.onRetained(card);
    }
    if (this.protocol.removedLine !== null) this.emit(this.protocol.removedLine + LINE_END[this.protocol.lineEnd]);
  }
}
