import type { Clock, TimerHandle } from '../../actors/runtime/clock.js';
import { DriverError, type CardData, type CardReaderPort, type DeviceStatusEvent } from '../ports.js';
import type { SerialLine, SerialOpener } from './port.js';

/**
 * How a document reader of the common kind talks: it sends the machine-readable zone of a card
 * as text lines (TD1: three lines of 30 characters of A–Z, 0–9 and `<`), optionally wrapped in a
 * frame (STX … ETX), optionally announced by a "document present" line and followed by a
 * "document removed" line; it takes short text commands. Every string is as the reader's
 * manual gives it; commands are sent with the line end appended.
 */
export interface MrzReaderProtocol {
  lineEnd: 'CR' | 'LF' | 'CRLF';
  /** bytes around one document's lines; null: a read is complete after the third line */
  frame: { start: string; end: string } | null;
  /** the line the reader sends when a card arrives in the slot (null: it sends none) */
  presentLine: string | null;
  /** the line the reader sends when the card has left the slot (null: it sends none) */
  removedLine: string | null;
  /** commands; null where the reader has none (enable/disable) or a GPIO does it (eject/retain) */
  commands: { enable: string | null; disable: string | null; eject: string | null; retain: string | null };
}

export const DEFAULT_MRZ_PROTOCOL: MrzReaderProtocol = {
  lineEnd: 'CR',
  frame: null,
  presentLine: null,
  removedLine: null,
  commands: { enable: null, disable: null, eject: null, retain: null },
};

/** What moves the card when the reader has no command for it: e.g. pulses on expander pins. */
export interface CardActuator {
  /** pushes the card back out of the slot */
  eject(): Promise<void>;
  /** pulls the card inside, into the shredder's feed */
  retain(): Promise<void>;
}

export interface SerialMrzReaderOptions {
  open: SerialOpener;
  clock: Clock;
  protocol?: MrzReaderProtocol;
  /** longest silence inside one read before it counts as broken off (partial line, stalled reader) */
  readTimeoutMs?: number;
  /** after a refused read, bytes are dropped until the line was quiet this long */
  quietMs?: number;
  /** how often an unplugged reader is looked for again */
  reconnectMs?: number;
  /** eject/retain by GPIO instead of reader commands */
  actuator?: CardActuator;
}

/** A TD1 line as a reader sends it: 30 characters of the MRZ alphabet. */
const MRZ_LINE = /^[A-Z0-9<]{30}$/;
const TD1_LINES = 3;
const LINE_END: Record<MrzReaderProtocol['lineEnd'], string> = { CR: '\r', LF: '\n', CRLF: '\r\n' };

interface PendingRead {
  result: Promise<CardData>;
  settle(outcome: { ok: true; card: CardData } | { ok: false; error: DriverError }): void;
  settled: boolean;
  lines: string[];
}

/**
 * The CardReaderPort over a serial MRZ reader. Bytes are framed into lines, a document's lines
 * into one read; the read is checked for its shape (three lines of 30 MRZ characters) and handed
 * to the session, which parses it and checks the digits (actors/domain/mrz.ts). MRZ text is
 * personal data: it never appears in an error message.
 *
 * Invariants: at most one read is open; an open read ends within `readTimeoutMs` of its last byte;
 * an unplugged line fails the open read with READER_DISCONNECTED, reports the reader unavailable
 * and is reopened every `reconnectMs` until it answers.
 */
export class SerialMrzReader implements CardReaderPort {
  private readonly protocol: MrzReaderProtocol;
  private readonly readTimeoutMs: number;
  private readonly quietMs: number;
  private readonly reconnectMs: number;
  private readonly insertedListeners = new Set<() => void>();
  private readonly statusListeners = new Set<(e: DeviceStatusEvent) => void>();
  private line: SerialLine | null = null;
  private detach: Array<() => void> = [];
  private state: 'new' | 'running' | 'closed' = 'new';
  private text = '';
  private inFrame = false;
  private discarding = false;
  private current: PendingRead | null = null;
  /** the read handed out by `read()` or still waiting for it */
  private handedOut = false;
  private cardInside = false;
  private accepting = false;
  private timer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  /** a failure was reported; the next successful connect reports the reader back */
  private reportedDown = false;

  constructor(private readonly options: SerialMrzReaderOptions) {
    this.protocol = options.protocol ?? DEFAULT_MRZ_PROTOCOL;
    this.readTimeoutMs = options.readTimeoutMs ?? 3000;
    this.quietMs = options.quietMs ?? 250;
    this.reconnectMs = options.reconnectMs ?? 5000;
    const { commands } = this.protocol;
    if (!options.actuator && (commands.eject === null || commands.retain === null)) {
      throw new DriverError('READER_CONFIG_INVALID', 'the reader needs eject and retain commands, or a GPIO actuator for them');
    }
  }

  /** Opens the line and closes the slot. An absent reader is reported unavailable and looked for again. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new DriverError('READER_STARTED', 'the reader was already started');
    this.state = 'running';
    await this.connect();
  }

  onCardInserted(listener: () => void): () => void {
    this.insertedListeners.add(listener);
    return () => this.insertedListeners.delete(listener);
  }

  onStatus(listener: (e: DeviceStatusEvent) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async setAccepting(accepting: boolean): Promise<void> {
    this.accepting = accepting;
    const command = accepting ? this.protocol.commands.enable : this.protocol.commands.disable;
    if (command !== null) await this.send(command);
  }

  /** The lines of the card in the slot, once the reader sent them all. */
  async read(): Promise<CardData> {
    if (!this.line) throw new DriverError('READER_DISCONNECTED', 'the reader is not connected');
    if (this.handedOut || !this.current) throw new DriverError('NO_CARD', 'no card in the reader');
    this.handedOut = true;
    return this.current.result;
  }

  async eject(): Promise<void> {
    this.forget('the card was given back before the reader finished');
    this.cardInside = false;
    if (this.options.actuator) await this.options.actuator.eject();
    else await this.send(this.protocol.commands.eject!);
  }

  async transfer(): Promise<void> {
    if (!this.cardInside) throw new DriverError('NO_CARD', 'no card to transfer');
    this.forget('the card was taken in before the reader finished');
    this.cardInside = false;
    if (this.options.actuator) await this.options.actuator.retain();
    else await this.send(this.protocol.commands.retain!);
  }

  /** Stops looking for the reader and closes the line; an open read fails with READER_CLOSED. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.reconnectTimer) this.options.clock.clearTimer(this.reconnectTimer);
    this.fail(new DriverError('READER_CLOSED', 'the reader was closed during a read'));
    const line = this.line;
    this.release();
    await line?.close();
  }

  /** Whether the serial line is open now. */
  get connected(): boolean {
    return this.line !== null;
  }

  // --- the line ------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    try {
      const line = await this.options.open();
      if (this.state !== 'running') return void (await line.close());
      this.line = line;
      this.text = '';
      this.inFrame = false;
      this.discarding = false;
      this.detach = [line.onData((chunk) => this.receive(chunk)), line.onClose(() => this.unplugged())];
      // Whatever the reader was told before, the slot is closed until a session asks for a card.
      if (this.protocol.commands.disable !== null) await this.send(this.protocol.commands.disable);
      this.accepting = false;
      if (this.reportedDown) this.emitStatus({ device: 'reader', ok: true });
    } catch (err) {
      this.release();
      const code = err instanceof DriverError ? err.code : 'READER_UNAVAILABLE';
      this.emitStatus({ device: 'reader', ok: false, code });
      this.scheduleReconnect();
    }
  }

  private unplugged(): void {
    this.release();
    this.cardInside = false;
    this.fail(new DriverError('READER_DISCONNECTED', 'the reader was disconnected during a read'));
    // Whatever sat in the slot is out of reach now; a read after reconnecting starts afresh.
    this.current = null;
    this.handedOut = false;
    this.emitStatus({ device: 'reader', ok: false, code: 'READER_DISCONNECTED' });
    this.scheduleReconnect();
  }

  private release(): void {
    for (const d of this.detach) d();
    this.detach = [];
    this.line = null;
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private scheduleReconnect(): void {
    if (this.state !== 'running') return;
    const { clock } = this.options;
    this.reconnectTimer = clock.setTimer(clock.now() + this.reconnectMs, () => {
      this.reconnectTimer = undefined;
      if (this.state === 'running' && !this.line) void this.connect();
    });
  }

  private async send(command: string): Promise<void> {
    if (!this.line) throw new DriverError('READER_DISCONNECTED', 'the reader is not connected');
    await this.line.write(Buffer.from(command + LINE_END[this.protocol.lineEnd], 'latin1'));
  }

  // --- framing -------------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    this.text += chunk.toString('latin1');
    if (this.discarding || this.current) this.armTimer();
    for (;;) {
      const frame = this.protocol.frame;
      if (frame && this.inFrame) {
        const end = this.text.indexOf(frame.end);
        if (end < 0) return;
        const body = this.text.slice(0, end);
        this.text = this.text.slice(end + frame.end.length);
        this.inFrame = false;
        if (!this.discarding) this.complete(body.split(/\r\n|\r|\n/).filter((l) => l !== ''));
        continue;
      }
      const lineEnd = LINE_END[this.protocol.lineEnd];
      const eol = this.text.indexOf(lineEnd);
      const start = frame ? this.text.indexOf(frame.start) : -1;
      if (start >= 0 && (eol < 0 || start < eol)) {
        this.handleLine(this.text.slice(0, start));
        this.text = this.text.slice(start + frame!.start.length);
        this.inFrame = true;
        this.begin();
        continue;
      }
      if (eol < 0) {
        // Bytes of a line still coming: a document has started (it may stall: the timer decides).
        if (this.text !== '' && !frame && !this.isEventPrefix(this.text)) this.begin();
        return;
      }
      const text = this.text.slice(0, eol);
      this.text = this.text.slice(eol + lineEnd.length);
      this.handleLine(text);
    }
  }

  private handleLine(text: string): void {
    const line = text.trim();
    if (line === '') return;
    if (line === this.protocol.presentLine) return void this.begin();
    if (line === this.protocol.removedLine) {
      this.cardInside = false;
      this.discarding = false;
      return void this.fail(new DriverError('CARD_UNREADABLE', 'the card was taken out before it was read'));
    }
    if (this.protocol.frame || this.discarding) return;
    this.begin();
    const read = this.current!;
    read.lines.push(line);
    if (!MRZ_LINE.test(line) || read.lines.length === TD1_LINES) this.complete(read.lines);
  }

  private isEventPrefix(text: string): boolean {
    return [this.protocol.presentLine, this.protocol.removedLine].some((l) => l !== null && l.startsWith(text));
  }

  /** A document arrived: opens a read (once) and tells the listeners. */
  private begin(): void {
    if (this.discarding || this.current) return;
    let settle!: PendingRead['settle'];
    const result = new Promise<CardData>((resolve, reject) => {
      settle = (outcome) => (outcome.ok ? resolve(outcome.card) : reject(outcome.error));
    });
    // A read nobody asked for yet must not become an unhandled rejection.
    result.catch(() => {});
    const read: PendingRead = { result, settled: false, lines: [], settle: (o) => ((read.settled = true), settle(o)) };
    this.current = read;
    this.handedOut = false;
    this.cardInside = true;
    this.armTimer();
    for (const l of this.insertedListeners) l();
  }

  /** The document's lines are all there: a TD1 shape is delivered, anything else refused. */
  private complete(lines: string[]): void {
    const read = this.current;
    if (!read || read.settled) return;
    const bad = lines.findIndex((l) => !MRZ_LINE.test(l));
    if (bad >= 0 || lines.length !== TD1_LINES) {
      const why = bad >= 0 ? `line ${bad + 1} is not 30 characters of A–Z, 0–9 and <` : `${lines.length} lines instead of ${TD1_LINES}`;
      this.fail(new DriverError('CARD_UNREADABLE', `the reader sent no machine-readable zone (${why})`));
      return;
    }
    this.stopTimer();
    read.settle({ ok: true, card: { mrz: [...lines] } });
  }

  /** Fails the open read and drops what follows until the line is quiet. */
  private fail(error: DriverError): void {
    const read = this.current;
    if (!read || read.settled) return;
    read.settle({ ok: false, error });
    read.lines = [];
    if (error.code === 'CARD_UNREADABLE' && this.line) {
      this.discarding = true;
      this.armTimer(this.quietMs);
    } else {
      this.stopTimer();
    }
  }

  /** Drops the current read (its card leaves the slot). */
  private forget(reason: string): void {
    this.fail(new DriverError('CARD_UNREADABLE', reason));
    this.current = null;
    this.handedOut = false;
  }

  private armTimer(ms = this.discarding ? this.quietMs : this.readTimeoutMs): void {
    const { clock } = this.options;
    if (this.timer) clock.clearTimer(this.timer);
    this.timer = clock.setTimer(clock.now() + ms, () => {
      this.timer = undefined;
      if (this.discarding) {
        this.discarding = false;
        this.text = '';
        this.inFrame = false;
        return;
      }
      const got = this.current?.lines.length ?? 0;
      this.text = '';
      this.inFrame = false;
      this.fail(new DriverError('CARD_UNREADABLE', `the reader stopped after ${got} of ${TD1_LINES} lines`));
    });
  }

  private stopTimer(): void {
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private emitStatus(e: DeviceStatusEvent): void {
    this.reportedDown = !e.ok;
    for (const l of this.statusListeners) l(e);
  }
}
