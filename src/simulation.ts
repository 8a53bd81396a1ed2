import { DomainError } from '../actors/domain/errors.js';
import type { Supervisor } from '../actors/runtime/supervisor.js';
import type { BoxProtocol } from '../actors/protocol.js';
import type { SimulatedLockBank } from '../drivers/i2c/lock-bank.js';
import type { SimulatedShredderMechanism } from '../drivers/i2c/sim/shredder.js';
import type { Layout } from '../drivers/layout.js';
import type { CardData, Hardware, PhysicalWorld } from '../drivers/ports.js';
import { SimulatedCardReader, SimulatedLocks, SimulatedShredder, SimulatedSmsGateway } from '../drivers/sim/devices.js';

/**
 * What the test harness may do to a box's simulated world: doors a person touches, a card
 * pushed into the slot, a jam, a board fault, the SMS a phone received, the simulated clock.
 * Each operation refuses with DEVICE_UNAVAILABLE (or HARNESS_UNSUPPORTED for the clock) when
 * the box runs on the real device, so the schema never needs to know the driver classes.
 */
export interface Simulation {
  openDoor(compartmentId: string): boolean;
  closeDoor(compartmentId: string): void;
  forceDoor(compartmentId: string): void;
  /** Pushes a card into the slot; false when the slot does not take cards now. */
  insertCard(card: CardData): boolean;
  jamShredderNext(): void;
  /** A person plugs headphones into (or pulls them out of) the jack of panel `kiosk`. */
  plugHeadphones(kiosk: string, plugged: boolean): void;
  /** Staff's hands emptying the bin (the shredder actor reads the new room through its port). */
  emptyShredderBin(): void;
  /** A lock board carrying `compartmentIds` fails (I2C_NACK, I2C_TIMEOUT) or recovers. */
  boardFault(compartmentIds: readonly string[], ok: boolean, code?: string): void;
  /** What the simulated SMS gateway delivered, oldest first. */
  smsSent(): readonly { id: string; to: string; text: string }[];
  /** Moves a simulated clock forward, running every timer due on the way; resolves with the new time. */
  advance(ms: number): Promise<number>;
  /**
   * Waits until the simulated world and every actor have settled (nothing left but waiting for
   * time). Only the harness uses it, to return the world after a simulated event; requests wait
   * for their own answers instead.
   */
  settle(): Promise<void>;
}

export interface SimulationParts {
  supervisor: Pick<Supervisor<BoxProtocol>, 'advanceClock' | 'settle'>;
  hardware: Hardware;
  world: PhysicalWorld | null;
  i2c: SimulatedLockBank | null;
  /** the slot of the simulated reader (device level or the byte-level serial reader) */
  cardSlot: { insert(card: CardData): boolean } | null;
  /** the shredder's mechanism behind expander pins (register-level simulation) */
  shredderMechanism: SimulatedShredderMechanism | null;
  plugHeadphones: ((kiosk: string, plugged: boolean) => void) | null;
  layout: Layout | null;
  now: () => number;
}

function unavailable(name: string): never {
  throw new DomainError('DEVICE_UNAVAILABLE', `the ${name} is not simulated in this box`);
}

export function createSimulation(parts: SimulationParts): Simulation {
  const { supervisor, hardware, i2c, layout } = parts;
  const world = (): PhysicalWorld => parts.world ?? unavailable('locks');
  const reader = (): SimulatedCardReader => (hardware.reader instanceof SimulatedCardReader ? hardware.reader : unavailable('card reader'));
  const shredder = (): SimulatedShredder => (hardware.shredder instanceof SimulatedShredder ? hardware.shredder : unavailable('shredder'));
  const sms = (): SimulatedSmsGateway => (hardware.sms instanceof SimulatedSmsGateway ? hardware.sms : unavailable('SMS gateway'));
  return {
    openDoor: (id) => world().openDoor(id),
    closeDoor: (id) => world().closeDoor(id),
    forceDoor: (id) => world().forceDoor(id),
    insertCard: (card) => (parts.cardSlot ?? reader()).insert(card),
    jamShredderNext: () => {
      (parts.shredderMechanism ?? shredder()).jamNext = true;
    },
    plugHeadphones: (kiosk, plugged) => (parts.plugHeadphones ?? unavailable('headphone jack'))(kiosk, plugged),
    emptyShredderBin: () => (parts.shredderMechanism ?? shredder()).emptyBin(),
    boardFault: (ids, ok, code) => {
      if (i2c && layout) {
        // Register-level simulation: the fault happens on the bus, and the lock bank finds it by polling.
        const boards = new Set(ids.map((id) => layout.compartments.find((c) => c.id === id)?.board).filter((b): b is string => b !== undefined));
        for (const boardId of boards) {
          const board = layout.boards.find((b) => b.id === boardId)!;
          const bus = i2c.buses.get(board.bus)!;
          if (ok) bus.clearFaults();
          else bus.injectFault(board.address, code === 'I2C_TIMEOUT' ? 'I2C_TIMEOUT' : 'I2C_NACK');
        }
        return;
      }
      if (!(hardware.locks instanceof SimulatedLocks)) unavailable('lock bank');
      hardware.locks.reportBoard({ board: 'harness', ok, compartments: [...ids], ...(code ? { code } : {}) });
    },
    smsSent: () => sms().sent,
    advance: async (ms) => {
      await supervisor.advanceClock(ms);
      return parts.now();
    },
    settle: () => supervisor.settle(),
  };
}
