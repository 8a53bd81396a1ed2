import type { Clock } from '../../actors/runtime/clock.js';
import type { BoardKind, LockTiming } from '../layout.js';
import { DriverError, type DoorEvent, type DoorState } from '../ports.js';
import type { I2cBusQueue } from './bus-queue.js';
import { DoorDebouncer, type DebounceOptions } from './debounce.js';
import type { I2cTransfers } from './port.js';
import { withRetries, type RetryPolicy } from './retry.js';

/**
 * Register-level access to one expander chip. Bit i of every mask is pin i. Each method is one
 * step of a transaction and assumes exclusive use of the bus (the caller holds the bus queue).
 */
export interface ExpanderChip {
  readonly kind: BoardKind;
  readonly address: number;
  /**
   * Brings the chip into the known state — every lock released, door pins inputs with pull-ups —
   * whatever state it was left in: an app restart does not reset the chip.
   */
  configure(tx: I2cTransfers): Promise<void>;
  /** Drives exactly the lock pins in `energised`, writing whole latch bytes from the shadow, only those that change. */
  writeLocks(tx: I2cTransfers, energised: number): Promise<void>;
  /** Releases every output whatever the shadow says. */
  releaseAll(tx: I2cTransfers): Promise<void>;
  /** Levels of all pins (1 = high) in one transfer. */
  readLevels(tx: I2cTransfers): Promise<number>;
}

/** Which pins of a chip the board uses. */
export interface BoardPins {
  locks: number;
  doors: number;
}

/** A compartment as one board sees it. */
export interface BoardCompartment {
  compartment: string;
  lockPin: number;
  doorPin: number;
  timing: LockTiming;
}

export interface LockBoardOptions {
  id: string;
  chip: ExpanderChip;
  bus: I2cBusQueue;
  clock: Clock;
  compartments: BoardCompartment[];
  debounce: DebounceOptions;
  retry: RetryPolicy;
  /** output pins of devices (shredder motor, flap, room door) beside the locks; their on-time is the device driver's */
  deviceOutputs?: number;
  /** aborted when the bank closes: retries stop and a pulse in progress ends early (its lock is released) */
  signal?: AbortSignal;
}

/** Door switches close to ground: a closed door reads low; an open door (or a cut wire) reads high. */
export function doorStateOf(levels: number, doorPin: number): DoorState {
  return (levels >> doorPin) & 1 ? 'open' : 'closed';
}

export function pinMask(pins: Iterable<number>): number {
  let mask = 0;
  for (const pin of pins) mask |= 1 << pin;
  return mask;
}

/**
 * One lock board: its chip, its compartments and the unlock policy. Invariants: a lock is
 * energised only inside `pulse`, for at most its `maxOnMs`; the next pulse of a lock starts no
 * earlier than `cooldownMs` after the last one ended; every bus step is retried on bus faults.
 */
export class LockBoard {
  readonly id: string;
  private readonly byCompartment: Map<string, BoardCompartment & { debouncer: DoorDebouncer }>;
  /** lock pins that should be energised right now; the chip's shadow follows it */
  private energised = 0;
  private readonly pulsing = new Set<string>();
  private readonly lastPulseEnd = new Map<string, number>();
  /** pin levels of the last poll: device inputs on this board are read from it at no extra bus cost */
  lastLevels: number | undefined;

  constructor(private readonly options: LockBoardOptions) {
    this.id = options.id;
    this.byCompartment = new Map(
      options.compartments.map((c) => [c.compartment, { ...c, debouncer: new DoorDebouncer(options.debounce) }]),
    );
  }

  get compartments(): string[] {
    return [...this.byCompartment.keys()];
  }

  /**
   * Configures the chip with every output released. Run at start and to recover from a fault;
   * a pulse still sleeping across it finds its lock already released and writes nothing more.
   */
  async start(): Promise<void> {
    this.energised = 0;
    await this.step((tx) => this.options.chip.configure(tx));
  }

  /**
   * Energises the compartment's lock for `pulseMs` (default: its configured pulse), then
   * releases it: two latch writes. Rejects with LOCK_ON_TIME_EXCEEDED, LOCK_COOLDOWN or a bus fault.
   */
  async pulse(compartment: string, pulseMs?: number): Promise<void> {
    const c = this.compartment(compartment);
    const ms = pulseMs ?? c.timing.pulseMs;
    if (!(ms > 0) || ms > c.timing.maxOnMs) {
      throw new DriverError('LOCK_ON_TIME_EXCEEDED', `${compartment}: a ${ms} ms pulse exceeds the lock's maximum on-time of ${c.timing.maxOnMs} ms`);
    }
    const now = this.options.clock.now();
    const lastEnd = this.lastPulseEnd.get(compartment);
    if (this.pulsing.has(compartment) || (lastEnd !== undefined && now - lastEnd < c.timing.cooldownMs)) {
      const wait = this.pulsing.has(compartment) ? 'a pulse is in progress' : `wait ${c.timing.cooldownMs - (now - lastEnd!)} ms`;
      throw new DriverError('LOCK_COOLDOWN', `${compartment}: the lock is cooling down (${wait})`);
    }
    const bit = 1 << c.lockPin;
    this.pulsing.add(compartment);
    this.energised |= bit;
    try {
      await this.writeLocks();
      await this.options.clock.sleep(ms, this.options.signal);
    } finally {
      // Release even when energising failed: the write may have reached the chip.
      this.energised &= ~bit;
      try {
        await this.writeLocks();
      } finally {
        this.pulsing.delete(compartment);
        this.lastPulseEnd.set(compartment, this.options.clock.now());
      }
    }
  }

  /**
   * Energises or releases one device output: one latch write (from the shadow, whole bytes) in
   * the bus queue, like a lock pulse's. Refuses a pin that is not a device output of this board.
   */
  async setOutput(pin: number, active: boolean): Promise<void> {
    const bit = 1 << pin;
    if (!((this.options.deviceOutputs ?? 0) & bit)) {
      throw new DriverError('PIN_NOT_AN_OUTPUT', `pin ${pin} of board ${this.id} is not a device output in the layout`);
    }
    if (active) this.energised |= bit;
    else this.energised &= ~bit;
    await this.writeLocks();
  }

  /** Levels of every pin (bit i = pin i, 1 = high) in one transfer, for device inputs. */
  readLevels(): Promise<number> {
    return this.step((tx) => this.options.chip.readLevels(tx));
  }

  /** Reads every door of the board in one transfer; returns the debounced changes. */
  async pollDoors(): Promise<DoorEvent[]> {
    const levels = await this.step((tx) => this.options.chip.readLevels(tx));
    this.lastLevels = levels;
    const at = this.options.clock.now();
    const changes: DoorEvent[] = [];
    for (const c of this.byCompartment.values()) {
      const door = c.debouncer.sample(doorStateOf(levels, c.doorPin), at);
      if (door) changes.push({ compartment: c.compartment, door });
    }
    return changes;
  }

  /** Debounced door states; compartments not read yet are missing. */
  doorStates(): Map<string, DoorState> {
    const states = new Map<string, DoorState>();
    for (const c of this.byCompartment.values()) if (c.debouncer.state) states.set(c.compartment, c.debouncer.state);
    return states;
  }

  /** Releases every output. A pulse still sleeping then finds nothing left to release. */
  async shutdown(): Promise<void> {
    this.energised = 0;
    await this.step((tx) => this.options.chip.releaseAll(tx));
  }

  private compartment(id: string): BoardCompartment & { debouncer: DoorDebouncer } {
    const c = this.byCompartment.get(id);
    if (!c) throw new DriverError('UNKNOWN_COMPARTMENT', `board ${this.id} carries no compartment ${id}`);
    return c;
  }

  /** The mask is read when the transaction runs, so queued writes always carry the latest intent. */
  private writeLocks(): Promise<void> {
    return this.step((tx) => this.options.chip.writeLocks(tx, this.energised));
  }

  private step<T>(work: (tx: I2cTransfers) => Promise<T>): Promise<T> {
    const { clock, retry, bus } = this.options;
    return withRetries(clock, retry, () => bus.transaction(work), this.options.signal);
  }
}
