import type { Clock, TimerHandle } from '../../actors/runtime/clock.js';
import { devicePins, type BoardPin } from '../device-layout.js';
import { checkBusSpeed, type BoardConfig, type Layout } from '../layout.js';
import { DriverError, type BoardStatusEvent, type DoorEvent, type DoorState, type LockPort } from '../ports.js';
import { I2cBusQueue } from './bus-queue.js';
import { DEFAULT_DEBOUNCE, type DebounceOptions } from './debounce.js';
import { LockBoard, pinMask, type BoardCompartment, type ExpanderChip } from './lock-board.js';
import { Mcp23017Chip } from './mcp23017.js';
import { Pcf8574Chip } from './pcf8574.js';
import { BUS_FAULT_CODES, type GpioPort, type I2cPort } from './port.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { SimulatedI2cBus } from './sim/bus.js';
import type { SimPinChip } from './sim/device.js';
import { SimMcp23017 } from './sim/mcp23017.js';
import { SimPcf8574 } from './sim/pcf8574.js';
import { SimulatedWorld, type WorldOptions } from './sim/world.js';

export interface RecoveryPolicy {
  /** first wait before re-initialising a failed board; doubles up to `maxMs` */
  initialMs: number;
  maxMs: number;
}

export interface I2cLockBankOptions {
  /** a validated layout (validateLayout) */
  layout: Layout;
  /** bus number → port; every bus the layout uses must be present */
  buses: ReadonlyMap<number, I2cPort>;
  clock: Clock;
  /** door polling period per board (default 100 ms) */
  pollMs?: number;
  debounce?: DebounceOptions;
  /** retries of one bus step (default 3 tries, 10 ms backoff doubling) */
  retry?: RetryPolicy;
  /** how a failed board is retried (default 1 s doubling to 30 s) */
  recovery?: RecoveryPolicy;
}

export type BoardHealth = { ok: true } | { ok: false; code: string; retryInMs: number };

interface BoardSlot {
  config: BoardConfig;
  board: LockBoard;
  health: BoardHealth;
  timer: TimerHandle | undefined;
}

const DEFAULT_RECOVERY: RecoveryPolicy = { initialMs: 1000, maxMs: 30_000 };

/** The register-level driver for one board of the layout. */
export function createExpanderChip(board: BoardConfig, pins: { locks: number; doors: number }): ExpanderChip {
  return board.kind === 'mcp23017'
    ? new Mcp23017Chip({ address: board.address, pins })
    : new Pcf8574Chip({ kind: board.kind, address: board.address, pins });
}

/**
 * The LockPort over I2C lock boards. Each board polls its doors every `pollMs` in one
 * transaction, independently, so a failing board never delays the others. A board whose bus
 * steps keep failing (after retries) is reported `ok: false`, refuses pulses with BOARD_FAULT,
 * and is re-initialised with growing backoff until it answers again (`ok: true`).
 */
export class I2cLockBank implements LockPort {
  private readonly slots = new Map<string, BoardSlot>();
  private readonly boardOf = new Map<string, BoardSlot>();
  private readonly doorListeners = new Set<(e: DoorEvent) => void>();
  private readonly statusListeners = new Set<(e: BoardStatusEvent) => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pollListeners = new Set<(board: string) => void>();
  private readonly pollMs: number;
  private readonly recovery: RecoveryPolicy;
  private state: 'new' | 'running' | 'closed' = 'new';
  /** aborted by close(): work in flight stops retrying and sleeping, so closing never waits on the clock */
  private readonly closing = new AbortController();

  constructor(private readonly options: I2cLockBankOptions) {
    this.pollMs = options.pollMs ?? 100;
    this.recovery = options.recovery ?? DEFAULT_RECOVERY;
    const queues = new Map<number, I2cBusQueue>();
    for (const config of options.layout.boards) {
      const port = options.buses.get(config.bus);
      if (!port) throw new DriverError('BUS_MISSING', `board ${config.id} is on bus ${config.bus}, which was not opened`);
      if (!queues.has(config.bus)) queues.set(config.bus, new I2cBusQueue(config.bus, port));
      const compartments: BoardCompartment[] = options.layout.compartments
        .filter((c) => c.board === config.id)
        .map((c) => ({ compartment: c.id, lockPin: c.lockPin, doorPin: c.doorPin, timing: c.lock }));
      const device = devicePins(options.layout.devices).filter((p) => p.board === config.id);
      const deviceOutputs = pinMask(device.filter((p) => p.direction === 'output').map((p) => p.pin));
      const deviceInputs = pinMask(device.filter((p) => p.direction === 'input').map((p) => p.pin));
      // Device outputs are driven like locks (same shadow, same whole-byte writes); device inputs like doors.
      const pins = {
        locks: pinMask(compartments.map((c) => c.lockPin)) | deviceOutputs,
        doors: pinMask(compartments.map((c) => c.doorPin)) | deviceInputs,
      };
      const board = new LockBoard({
        id: config.id,
        chip: createExpanderChip(config, pins),
        bus: queues.get(config.bus)!,
        clock: options.clock,
        compartments,
        debounce: options.debounce ?? DEFAULT_DEBOUNCE,
        retry: options.retry ?? DEFAULT_RETRY,
        deviceOutputs,
        signal: this.closing.signal,
      });
      const slot: BoardSlot = { config, board, health: { ok: true }, timer: undefined };
      this.slots.set(config.id, slot);
      for (const id of board.compartments) this.boardOf.set(id, slot);
    }
  }

  /**
   * Initialises every board (all outputs released) and reads every door once, then starts polling.
   * Resolves when each board is up or reported failed (not thrown); retries wait on the clock.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new DriverError('LOCKS_STARTED', 'the lock bank was already started');
    this.state = 'running';
    await Promise.all([...this.slots.values()].map((slot) => this.track(this.bringUp(slot))));
  }

  async pulse(compartment: string): Promise<void> {
    const slot = this.boardOf.get(compartment);
    if (!slot) throw new DriverError('UNKNOWN_COMPARTMENT', `no compartment ${compartment} in the layout`);
    if (this.state !== 'running') throw new DriverError('LOCKS_NOT_RUNNING', `the lock bank is ${this.state === 'new' ? 'not started' : 'closed'}`);
    if (!slot.health.ok) {
      throw new DriverError('BOARD_FAULT', `board ${slot.config.id} of ${compartment} is out of order (${slot.health.code})`);
    }
    try {
      await slot.board.pulse(compartment);
    } catch (err) {
      if (err instanceof DriverError && BUS_FAULT_CODES.has(err.code)) this.markFailed(slot, err);
      throw err;
    }
  }

  /** Debounced door states; a failed board's compartments keep their last known state. */
  async readDoors(): Promise<Map<string, DoorState>> {
    const doors = new Map<string, DoorState>();
    for (const slot of this.slots.values()) for (const [id, door] of slot.board.doorStates()) doors.set(id, door);
    return doors;
  }

  onDoorChange(listener: (e: DoorEvent) => void): () => void {
    this.doorListeners.add(listener);
    return () => this.doorListeners.delete(listener);
  }

  onBoardStatus(listener: (e: BoardStatusEvent) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * The device pins of the layout's boards (shredder, room door, headphone jack), through the same
   * per-bus queue, shadows and retries as the locks. A failed board refuses with BOARD_FAULT.
   */
  readonly gpio: GpioPort = {
    set: async (pin, active) => {
      const slot = this.deviceSlot(pin);
      await this.onHealthyBoard(slot, () => slot.board.setOutput(pin.pin, active));
    },
    read: async (pins) => {
      const levels = new Map<string, number>();
      for (const pin of pins) {
        const slot = this.deviceSlot(pin);
        if (!levels.has(slot.config.id)) levels.set(slot.config.id, await this.onHealthyBoard(slot, () => slot.board.readLevels()));
      }
      return pins.map((pin) => ((levels.get(pin.board)! >> pin.pin) & 1) === 1);
    },
    polled: (pin) => {
      const levels = this.deviceSlot(pin).board.lastLevels;
      return levels === undefined ? undefined : ((levels >> pin.pin) & 1) === 1;
    },
    onPoll: (listener) => {
      this.pollListeners.add(listener);
      return () => this.pollListeners.delete(listener);
    },
  };

  private deviceSlot(pin: BoardPin): BoardSlot {
    const slot = this.slots.get(pin.board);
    if (!slot) throw new DriverError('UNKNOWN_BOARD', `no board ${pin.board} in the layout`);
    return slot;
  }

  private async onHealthyBoard<T>(slot: BoardSlot, work: () => Promise<T>): Promise<T> {
    if (this.state !== 'running') throw new DriverError('LOCKS_NOT_RUNNING', `the lock bank is ${this.state === 'new' ? 'not started' : 'closed'}`);
    if (!slot.health.ok) throw new DriverError('BOARD_FAULT', `board ${slot.config.id} is out of order (${slot.health.code})`);
    try {
      return await work();
    } catch (err) {
      if (err instanceof DriverError && BUS_FAULT_CODES.has(err.code)) this.markFailed(slot, err);
      throw err;
    }
  }

  /** Health of one board, for status pages and tests. */
  health(boardId: string): BoardHealth | undefined {
    const health = this.slots.get(boardId)?.health;
    return health && { ...health };
  }

  /** Stops polling, waits for bus work in flight, then releases every output of every board. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closing.abort();
    for (const slot of this.slots.values()) if (slot.timer) this.options.clock.clearTimer(slot.timer);
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.slots.values()].map((slot) => slot.board.shutdown()));
  }

  /** Configures the board and takes its first door reading; on success it is healthy. */
  private async bringUp(slot: BoardSlot): Promise<void> {
    try {
      await slot.board.start();
      this.emitDoors(await slot.board.pollDoors());
      for (const listener of this.pollListeners) listener(slot.config.id);
      if (!slot.health.ok) {
        slot.health = { ok: true };
        this.emitStatus(slot);
      }
    } catch (err) {
      this.markFailed(slot, err);
    }
    this.scheduleNext(slot);
  }

  private async poll(slot: BoardSlot): Promise<void> {
    const startedAt = this.options.clock.now();
    try {
      this.emitDoors(await slot.board.pollDoors());
      for (const listener of this.pollListeners) listener(slot.config.id);
    } catch (err) {
      this.markFailed(slot, err);
    }
    this.scheduleNext(slot, startedAt);
  }

  /** Healthy boards poll on a fixed period from the last poll's start; failed ones retry after their backoff. */
  private scheduleNext(slot: BoardSlot, lastStart = this.options.clock.now()): void {
    if (this.state !== 'running') return;
    const { clock } = this.options;
    if (slot.timer) clock.clearTimer(slot.timer);
    const at = slot.health.ok ? lastStart + this.pollMs : clock.now() + slot.health.retryInMs;
    slot.timer = clock.setTimer(at, () => {
      slot.timer = undefined;
      if (this.state !== 'running') return;
      void this.track(slot.health.ok ? this.poll(slot) : this.bringUp(slot));
    });
  }

  /** First failure: report it. Further failures: back off more. */
  private markFailed(slot: BoardSlot, err: unknown): void {
    const code = err instanceof DriverError ? err.code : 'BOARD_FAULT';
    if (slot.health.ok) {
      slot.health = { ok: false, code, retryInMs: this.recovery.initialMs };
      this.emitStatus(slot);
    } else {
      slot.health = { ok: false, code, retryInMs: Math.min(2 * slot.health.retryInMs, this.recovery.maxMs) };
    }
  }

  private emitDoors(events: DoorEvent[]): void {
    for (const e of events) for (const listener of this.doorListeners) listener(e);
  }

  private emitStatus(slot: BoardSlot): void {
    const event: BoardStatusEvent = { board: slot.config.id, ok: slot.health.ok, compartments: slot.board.compartments };
    if (!slot.health.ok) event.code = slot.health.code;
    for (const listener of this.statusListeners) listener(event);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }
}

export interface SimulatedLockBankOptions extends Omit<I2cLockBankOptions, 'layout' | 'buses' | 'clock'>, WorldOptions {
  /** SCL frequency of every simulated bus (default 100 kHz; PCF8574 boards allow no more) */
  busKHz?: number;
}

export interface SimulatedLockBank {
  locks: I2cLockBank;
  world: SimulatedWorld;
  buses: Map<number, SimulatedI2cBus>;
  /** the simulated chip of each board, by board id */
  chips: Map<string, SimPinChip>;
}

/** A lock bank on simulated buses, chips and physical world, for `npm start` and tests. */
export function createSimulatedLockBank(layout: Layout, clock: Clock, options: SimulatedLockBankOptions = {}): SimulatedLockBank {
  const kHz = options.busKHz ?? 100;
  const world = new SimulatedWorld(layout, clock, options);
  const buses = new Map<number, SimulatedI2cBus>();
  const chips = new Map<string, SimPinChip>();
  for (const board of layout.boards) {
    if (!buses.has(board.bus)) {
      checkBusSpeed(layout, board.bus, kHz);
      buses.set(board.bus, new SimulatedI2cBus(clock, { busNumber: board.bus, kHz }));
    }
    const chip = board.kind === 'mcp23017' ? new SimMcp23017(board.address) : new SimPcf8574(board.address);
    buses.get(board.bus)!.attach(chip);
    world.attach(board.id, chip);
    chips.set(board.id, chip);
  }
  const locks = new I2cLockBank({ ...options, layout, buses, clock });
  return { locks, world, buses, chips };
}
