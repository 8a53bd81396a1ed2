import type { Clock, TimerHandle } from '../../../actors/runtime/clock.js';
import type { Layout } from '../../layout.js';
import type { DoorState } from '../../ports.js';
import type { SimPinChip } from './device.js';

/** What happened to one compartment, for assertions. */
export interface CompartmentView {
  /** the latch holds the door shut */
  latched: boolean;
  doorOpen: boolean;
  /** the solenoid is energised right now */
  energised: boolean;
  jammed: boolean;
  /** the level the door switch is stuck at, if it is */
  switchStuck: DoorState | undefined;
  /** every time the solenoid was energised: start and (once released) end, clock ms */
  pulses: ReadonlyArray<{ start: number; end: number | undefined }>;
  /** times the door was forced open without a pulse */
  forcedOpenings: number;
}

/**
 * A device wired to pins of the layout's boards (a shredder, a room door, a headphone jack): it
 * pulls its input pins low as its switches close and watches the outputs driving it.
 */
export interface WiredDevice {
  /** whether the device pulls `pin` of `board` to ground now */
  drivenLow(board: string, pin: number): boolean;
  /** the chip of `board` changed its drives; `active(pin)` says whether that output is energised */
  drivesChanged(board: string, active: (pin: number) => boolean): void;
}

export interface WorldOptions {
  /** after a pulse, a door nobody opens is latched again after this long (the spring latch re-engages) */
  relatchAfterMs?: number;
}

interface Compartment {
  id: string;
  board: string;
  lockPin: number;
  doorPin: number;
  latched: boolean;
  doorOpen: boolean;
  energised: boolean;
  jammed: boolean;
  switchStuck: DoorState | undefined;
  pulses: Array<{ start: number; end: number | undefined }>;
  forcedOpenings: number;
  relatch: TimerHandle | undefined;
}

/**
 * The physical side of the box: per compartment a solenoid latch that a lock pulse releases,
 * a door that a test (or a simulated person) opens and closes, and the faults of the field —
 * a door forced open without a pulse, a jammed lock whose door never moves, a door switch stuck
 * at one level. Door switches close to ground when the door is shut.
 */
export class SimulatedWorld {
  private readonly compartments = new Map<string, Compartment>();
  private readonly chips = new Map<string, { chip: SimPinChip; activeLevel: 0 | 1 }>();
  private readonly latchListeners = new Set<(compartment: string) => void>();
  private readonly devices: WiredDevice[] = [];
  private readonly relatchAfterMs: number;

  constructor(
    private readonly layout: Layout,
    private readonly clock: Clock,
    options: WorldOptions = {},
  ) {
    this.relatchAfterMs = options.relatchAfterMs ?? 30_000;
    for (const c of layout.compartments) {
      this.compartments.set(c.id, {
        id: c.id, board: c.board, lockPin: c.lockPin, doorPin: c.doorPin,
        latched: true, doorOpen: false, energised: false, jammed: false, switchStuck: undefined,
        pulses: [], forcedOpenings: 0, relatch: undefined,
      });
    }
  }

  /**
   * Wires a board's chip to its compartments: lock pins to solenoid drivers (MCP23017: a
   * transistor, energised by a high pin; PCF8574: the load itself, energised by a low pin) and
   * door pins to the switches.
   */
  attach(boardId: string, chip: SimPinChip): void {
    const board = this.layout.boards.find((b) => b.id === boardId);
    if (!board) throw new Error(`no board ${boardId} in the layout`);
    const doorsByPin = new Map([...this.compartments.values()].filter((c) => c.board === boardId).map((c) => [c.doorPin, c]));
    this.chips.set(boardId, { chip, activeLevel: board.kind === 'mcp23017' ? 1 : 0 });
    chip.connect(
      {
        drivenLow: (pin) => {
          const c = doorsByPin.get(pin);
          if (c) return this.switchLevel(c) === 'closed';
          return this.devices.some((d) => d.drivenLow(boardId, pin));
        },
      },
      () => {
        this.lockDrivesChanged(boardId);
        this.deviceDrivesChanged(boardId);
      },
    );
    this.lockDrivesChanged(boardId);
  }

  /** Wires a device to its pins; it sees the current drives of every attached board at once. */
  wireDevice(device: WiredDevice): void {
    this.devices.push(device);
    for (const boardId of this.chips.keys()) this.deviceDrivesChanged(boardId, device);
  }

  /** A device's switch moved: the chip of `board` samples its inputs anew. */
  deviceInputsChanged(board: string): void {
    this.chips.get(board)?.chip.inputsChanged();
  }

  private deviceDrivesChanged(boardId: string, only?: WiredDevice): void {
    const wiring = this.chips.get(boardId)!;
    const active = (pin: number) => wiring.chip.drive(pin) === wiring.activeLevel;
    for (const d of only ? [only] : this.devices) d.drivesChanged(boardId, active);
  }

  /** A person pulls the door: it opens unless the latch holds it. Returns whether it moved. */
  open(compartment: string): boolean {
    const c = this.get(compartment);
    if (c.doorOpen) return true;
    if (c.latched) return false;
    this.setDoor(c, true);
    return true;
  }

  /** The door is pushed shut; the spring latch catches it unless the solenoid is still energised. */
  close(compartment: string): void {
    const c = this.get(compartment);
    c.latched = !c.energised || c.jammed;
    this.setDoor(c, false);
  }

  /** The door is broken open without any pulse. */
  forceOpen(compartment: string): void {
    const c = this.get(compartment);
    c.forcedOpenings++;
    this.setDoor(c, true);
  }

  /** A jammed lock keeps its latch whatever the solenoid does, so the door never moves. */
  jam(compartment: string, jammed = true): void {
    this.get(compartment).jammed = jammed;
  }

  /** The door switch reports `level` whatever the door does; undefined repairs it. */
  stickSwitch(compartment: string, level: DoorState | undefined): void {
    const c = this.get(compartment);
    c.switchStuck = level;
    this.chips.get(c.board)?.chip.inputsChanged();
  }

  /** Runs `listener` whenever a pulse releases a latch (a simulated person can open the door then). */
  onLatchReleased(listener: (compartment: string) => void): () => void {
    this.latchListeners.add(listener);
    return () => this.latchListeners.delete(listener);
  }

  view(compartment: string): CompartmentView {
    const c = this.get(compartment);
    return {
      latched: c.latched, doorOpen: c.doorOpen, energised: c.energised, jammed: c.jammed, switchStuck: c.switchStuck,
      pulses: c.pulses.map((p) => ({ ...p })), forcedOpenings: c.forcedOpenings,
    };
  }

  private get(compartment: string): Compartment {
    const c = this.compartments.get(compartment);
    if (!c) throw new Error(`no compartment ${compartment} in the layout`);
    return c;
  }

  private switchLevel(c: Compartment): DoorState {
    return c.switchStuck ?? (c.doorOpen ? 'open' : 'closed');
  }

  private setDoor(c: Compartment, open: boolean): void {
    this.cancelRelatch(c);
    c.doorOpen = open;
    this.chips.get(c.board)?.chip.inputsChanged();
  }

  private lockDrivesChanged(boardId: string): void {
    const wiring = this.chips.get(boardId)!;
    for (const c of this.compartments.values()) {
      if (c.board !== boardId) continue;
      const energised = wiring.chip.drive(c.lockPin) === wiring.activeLevel;
      if (energised === c.energised) continue;
      c.energised = energised;
      const now = this.clock.now();
      if (energised) {
        c.pulses.push({ start: now, end: undefined });
        if (!c.jammed && c.latched) {
          c.latched = false;
          this.cancelRelatch(c);
          for (const listener of this.latchListeners) listener(c.id);
        }
      } else {
        c.pulses[c.pulses.length - 1]!.end = now;
        if (!c.latched && !c.doorOpen) this.scheduleRelatch(c);
      }
    }
  }

  private scheduleRelatch(c: Compartment): void {
    this.cancelRelatch(c);
    c.relatch = this.clock.setTimer(this.clock.now() + this.relatchAfterMs, () => {
      c.relatch = undefined;
      if (!c.doorOpen) c.latched = true;
    });
  }

  private cancelRelatch(c: Compartment): void {
    if (c.relatch) this.clock.clearTimer(c.relatch);
    c.relatch = undefined;
  }
}
