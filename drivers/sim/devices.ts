import type { Clock, TimerHandle } from '../../actors/runtime/clock.js';
import {
  DriverError,
  type BoardStatusEvent,
  type CardData,
  type CardReaderPort,
  type DoorEvent,
  type DeviceStatusEvent,
  type DoorState,
  type HeadphoneEvent,
  type HeadphonePort,
  type LockPort,
  type PhysicalWorld,
  type ShredResult,
  type ShredderPort,
  type SmsGateway,
  type SmsMessage,
} from '../ports.js';

/**
 * Simulated hardware at device level: a latch a pulse releases, a door a test (or a person) can
 * open and close, a card that can be inserted, a shredder that can jam, an SMS gateway that
 * records what it sent. The register-level I2C simulation lives in drivers/i2c/sim.
 */

interface SimCompartment {
  latch: 'engaged' | 'released';
  door: DoorState;
  jammed: boolean;
  fault: string | null;
  relatch: TimerHandle | null;
}

export interface SimulatedLocksOptions {
  pulseMs?: number;
  /** how long a released latch stays released when nobody opens the door */
  latchHoldMs?: number;
}

export class SimulatedLocks implements LockPort, PhysicalWorld {
  readonly pulses: string[] = [];
  private readonly world = new Map<string, SimCompartment>();
  private readonly doorListeners = new Set<(e: DoorEvent) => void>();
  private readonly boardListeners = new Set<(e: BoardStatusEvent) => void>();
  private readonly pulseMs: number;
  private readonly latchHoldMs: number;

  constructor(
    compartments: string[],
    private readonly clock: Clock,
    opts: SimulatedLocksOptions = {},
  ) {
    this.pulseMs = opts.pulseMs ?? 300;
    this.latchHoldMs = opts.latchHoldMs ?? 30_000;
    for (const id of compartments) this.world.set(id, { latch: 'engaged', door: 'closed', jammed: false, fault: null, relatch: null });
  }

  async start(): Promise<void> {}

  async pulse(compartment: string): Promise<void> {
    const c = this.get(compartment);
    if (c.fault) throw new DriverError(c.fault, `lock of ${compartment}: ${c.fault}`);
    this.pulses.push(compartment);
    if (this.pulseMs > 0) await this.clock.sleep(this.pulseMs);
    if (c.jammed) return; // energised, but the bolt does not move
    c.latch = 'released';
    if (c.relatch) this.clock.clearTimer(c.relatch);
    c.relatch = this.clock.setTimer(this.clock.now() + this.latchHoldMs, () => {
      c.relatch = null;
      if (c.door === 'closed') c.latch = 'engaged';
    });
  }

  async readDoors(): Promise<Map<string, DoorState>> {
    return new Map([...this.world].map(([id, c]) => [id, c.door]));
  }

  onDoorChange(listener: (e: DoorEvent) => void): () => void {
    this.doorListeners.add(listener);
    return () => this.doorListeners.delete(listener);
  }

  onBoardStatus(listener: (e: BoardStatusEvent) => void): () => void {
    this.boardListeners.add(listener);
    return () => this.boardListeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const c of this.world.values()) if (c.relatch) this.clock.clearTimer(c.relatch);
  }

  // --- the physical world, for tests and the harness ------------------------------------------

  /** A person pulls the door. Returns false when the latch holds it shut. */
  openDoor(compartment: string): boolean {
    const c = this.get(compartment);
    if (c.door === 'open') return true;
    if (c.latch !== 'released') return false;
    this.setDoor(compartment, c, 'open');
    return true;
  }

  /** The door is pried open without any unlock. */
  forceDoor(compartment: string): void {
    const c = this.get(compartment);
    if (c.door === 'closed') this.setDoor(compartment, c, 'open');
  }

  /** A person pushes the door shut; the latch catches it. */
  closeDoor(compartment: string): void {
    const c = this.get(compartment);
    if (c.door === 'open') {
      c.latch = 'engaged';
      if (c.relatch) this.clock.clearTimer(c.relatch);
      c.relatch = null;
      this.setDoor(compartment, c, 'closed');
    }
  }

  /** The bolt sticks: pulses go out but the latch never releases. */
  jamLock(compartment: string, jammed = true): void {
    this.get(compartment).jammed = jammed;
  }

  /** Makes pulses of this compartment fail with a driver error code (null clears it). */
  failLock(compartment: string, code: string | null): void {
    this.get(compartment).fault = code;
  }

  /** Reports a board fault or recovery for some compartments, as a real lock bank would. */
  reportBoard(event: BoardStatusEvent): void {
    for (const c of event.compartments) this.get(c).fault = event.ok ? null : (event.code ?? 'BOARD_FAULT');
    for (const l of this.boardListeners) l(event);
  }

  latch(compartment: string): 'engaged' | 'released' {
    return this.get(compartment).latch;
  }

  latched(compartment: string): boolean {
    return this.get(compartment).latch === 'engaged';
  }

  door(compartment: string): DoorState {
    return this.get(compartment).door;
  }

  private setDoor(id: string, c: SimCompartment, door: DoorState): void {
    c.door = door;
    for (const l of this.doorListeners) l({ compartment: id, door });
  }

  private get(id: string): SimCompartment {
    const c = this.world.get(id);
    if (!c) throw new DriverError('UNKNOWN_COMPARTMENT', `no compartment ${id} in the simulated box`);
    return c;
  }
}

/** The card slot, the card inside it, and where cards go: back to the person or into the shredder feed. */
export class SimulatedCardReader implements CardReaderPort {
  accepting = false;
  card: (CardData & { unreadable?: boolean }) | null = null;
  readonly ejected: CardData[] = [];
  connected = true;
  private readonly listeners = new Set<() => void>();
  private readonly statusListeners = new Set<(e: DeviceStatusEvent) => void>();

  /** where transferred cards go: the shredder's feed */
  private feed: CardData[];

  constructor(shredder: SimulatedShredder) {
    this.feed = shredder.feed;
  }

  /** Transferred cards go to another shredder's feed (the register-level simulated mechanism). */
  feedInto(feed: CardData[]): void {
    this.feed = feed;
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {}

  onStatus(listener: (e: DeviceStatusEvent) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** The reader's cable is pulled: a card inside stays there, reads fail. */
  unplug(): void {
    this.connected = false;
    for (const l of this.statusListeners) l({ device: 'reader', ok: false, code: 'READER_DISCONNECTED' });
  }

  /** The reader is back, with its slot closed. */
  plug(): void {
    this.connected = true;
    this.accepting = false;
    for (const l of this.statusListeners) l({ device: 'reader', ok: true });
  }

  onCardInserted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async setAccepting(accepting: boolean): Promise<void> {
    this.connectedOrThrow();
    this.accepting = accepting;
  }

  /** A person pushes a card into the slot. Returns false when the slot is closed. */
  insert(card: CardData, opts: { unreadable?: boolean } = {}): boolean {
    if (!this.connected || !this.accepting || this.card) return false;
    this.card = { ...card, unreadable: opts.unreadable ?? false };
    this.accepting = false;
    for (const l of this.listeners) l();
    return true;
  }

  async read(): Promise<CardData> {
    this.connectedOrThrow();
    if (!this.card) throw new DriverError('NO_CARD', 'no card in the reader');
    if (this.card.unreadable) throw new DriverError('CARD_UNREADABLE', 'the card could not be read');
    return { mrz: [...this.card.mrz] };
  }

  async eject(): Promise<void> {
    this.connectedOrThrow();
    if (this.card) this.ejected.push({ mrz: this.card.mrz });
    this.card = null;
  }

  async transfer(): Promise<void> {
    this.connectedOrThrow();
    if (!this.card) throw new DriverError('NO_CARD', 'no card to transfer');
    this.feed.push({ mrz: this.card.mrz });
    this.card = null;
  }

  private connectedOrThrow(): void {
    if (!this.connected) throw new DriverError('READER_DISCONNECTED', 'the reader is not connected');
  }
}

export class SimulatedShredder implements ShredderPort {
  readonly feed: CardData[] = [];
  readonly shredded: CardData[] = [];
  jamNext = false;
  private used = 0;

  constructor(private readonly capacity = 200) {}

  async shred(): Promise<ShredResult> {
    if (this.used >= this.capacity) return { ok: false, code: 'SHREDDER_BIN_FULL' };
    if (this.jamNext) {
      this.jamNext = false;
      return { ok: false, code: 'SHREDDER_JAM' };
    }
    const card = this.feed.shift();
    if (card) this.shredded.push(card);
    this.used++;
    return { ok: true };
  }

  binFree(): number {
    return this.capacity - this.used;
  }

  binCapacity(): number {
    return this.capacity;
  }

  /** Staff empties the bin. */
  emptyBin(): void {
    this.used = 0;
  }
}

/** Headphone jacks a test plugs into: every change is reported at once (no bouncing contacts here). */
export class SimulatedHeadphoneJacks implements HeadphonePort {
  private readonly state = new Map<string, boolean>();
  private readonly listeners = new Set<(e: HeadphoneEvent) => void>();

  onChange(listener: (e: HeadphoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  plugged(kiosk: string): boolean {
    return this.state.get(kiosk) ?? false;
  }

  /** A person plugs headphones into (or pulls them out of) the panel of `kiosk`. */
  plug(kiosk: string, plugged = true): void {
    if (this.plugged(kiosk) === plugged) return;
    this.state.set(kiosk, plugged);
    for (const l of this.listeners) l({ kiosk, plugged });
  }
}

/** Records every message; a message id is delivered once however often it is sent. */
export class SimulatedSmsGateway implements SmsGateway {
  readonly sent: SmsMessage[] = [];
  /** ids in `sent`: a repeat is found without reading every message sent so far */
  private readonly ids = new Set<string>();
  private failures = 0;

  /** The next `n` sends fail as an unreachable gateway would. */
  failNext(n: number): void {
    this.failures = n;
  }

  async send(message: SmsMessage): Promise<{ providerId: string }> {
    if (this.failures > 0) {
      this.failures--;
      throw new DriverError('SMS_GATEWAY_UNAVAILABLE', 'the SMS gateway did not answer');
    }
    if (!this.ids.has(message.id)) {
      this.ids.add(message.id);
      this.sent.push({ ...message });
    }
    return { providerId: `sim-${message.id}` };
  }

  to(phone: string): SmsMessage[] {
    return this.sent.filter((m) => m.to === phone);
  }
}
