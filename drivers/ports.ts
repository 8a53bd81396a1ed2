/**
 * Ports between the actors and the hardware. Actors only ever see these interfaces; the
 * simulated devices (drivers/sim) and the register-level I2C drivers (drivers/i2c) implement them.
 */

export type DoorState = 'open' | 'closed';

export interface DoorEvent {
  compartment: string;
  door: DoorState;
}

export interface BoardStatusEvent {
  board: string;
  ok: boolean;
  /** compartments carried by the board */
  compartments: string[];
  /** stable code of the fault when not ok, e.g. I2C_NACK */
  code?: string;
}

/** A failure reported by a driver, with a stable code (I2C_NACK, I2C_TIMEOUT, BOARD_MISSING, LOCK_COOLDOWN, …). */
export class DriverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/** The locks and door switches of all compartments, whatever boards carry them. */
export interface LockPort {
  start(): Promise<void>;
  /** Energises the lock for its pulse length, then releases it. Rejects with DriverError. */
  pulse(compartment: string): Promise<void>;
  /** Current (debounced) door states of every compartment. */
  readDoors(): Promise<Map<string, DoorState>>;
  /** Door changes as the driver sees them (polling or interrupt). Returns an unsubscribe. */
  onDoorChange(listener: (e: DoorEvent) => void): () => void;
  /** Boards failing and recovering. Returns an unsubscribe. */
  onBoardStatus(listener: (e: BoardStatusEvent) => void): () => void;
  /** Releases every output and stops polling. */
  close(): Promise<void>;
}

/** What a card reader delivers: the MRZ lines of an ID card (ICAO 9303 TD1, three lines of 30). */
export interface CardData {
  mrz: string[];
}

/** A device (card reader, shredder) going away or coming back. */
export interface DeviceStatusEvent {
  device: 'reader' | 'shredder';
  ok: boolean;
  /** stable code when not ok, e.g. READER_DISCONNECTED */
  code?: string;
}

export interface CardReaderPort {
  /** Opens the line to the reader with the slot closed; an absent reader is reported through onStatus. */
  start(): Promise<void>;
  /** A card was pushed into the slot. */
  onCardInserted(listener: () => void): () => void;
  /** Opens or closes the slot for cards. */
  setAccepting(accepting: boolean): Promise<void>;
  /** Reads the inserted card. Rejects with DriverError (CARD_UNREADABLE, NO_CARD, READER_DISCONNECTED). */
  read(): Promise<CardData>;
  /** Gives the card back through the slot. */
  eject(): Promise<void>;
  /** Moves the card inside, into the shredder's feed. */
  transfer(): Promise<void>;
  /** The reader disconnected or came back. Returns an unsubscribe. */
  onStatus(listener: (e: DeviceStatusEvent) => void): () => void;
  close(): Promise<void>;
}

export type ShredResult = { ok: true } | { ok: false; code: 'SHREDDER_JAM' | 'SHREDDER_BIN_FULL' };

export interface ShredderPort {
  /** Shreds the card in the feed. */
  shred(): Promise<ShredResult>;
  /** Cards the bin can still take. */
  binFree(): number;
  binCapacity(): number;
  /** Staff emptied the bin: the count starts again. */
  emptyBin(): void;
}

export interface SmsMessage {
  /** idempotency key: the same message is never sent twice under one id */
  id: string;
  to: string;
  text: string;
}

export interface SmsGateway {
  send(message: SmsMessage): Promise<{ providerId: string }>;
}

/**
 * The physical side of simulated hardware: what a person (or a test, or the harness) does to the
 * box. Real hardware has no such handle.
 */
export interface PhysicalWorld {
  /** A person pulls the door; false while the latch holds it. */
  openDoor(compartment: string): boolean;
  closeDoor(compartment: string): void;
  /** The door is pried open without an unlock. */
  forceDoor(compartment: string): void;
  /** The bolt sticks: pulses go out, the latch never releases. */
  jamLock(compartment: string, jammed?: boolean): void;
  door(compartment: string): DoorState;
  latched(compartment: string): boolean;
}

/** A panel's headphone jack changed. */
export interface HeadphoneEvent {
  kiosk: string;
  plugged: boolean;
}

/** The headphone jacks of the panels (a switch contact in each jack). */
export interface HeadphonePort {
  /** Debounced changes. Returns an unsubscribe. */
  onChange(listener: (e: HeadphoneEvent) => void): () => void;
  /** Whether headphones are in the jack of `kiosk` now (false when unknown). */
  plugged(kiosk: string): boolean;
}

/** The after-hours room's door: a strike the box unlocks and a contact it watches. */
export interface RoomDoorPort {
  /** Energises (unlocks) or releases the strike. Rejects with DriverError (BOARD_FAULT, …). */
  setUnlocked(unlocked: boolean): Promise<void>;
  /** Debounced contact changes. Returns an unsubscribe. */
  onDoorChange(listener: (door: DoorState) => void): () => void;
  /** The debounced contact now ('closed' until first read; a first read of 'open' is heard as a change). */
  door(): DoorState;
}

/** All hardware of one box. */
export interface Hardware {
  locks: LockPort;
  reader: CardReaderPort;
  shredder: ShredderPort;
  sms: SmsGateway;
  /** absent where the panels have no jack wired */
  headphones?: HeadphonePort;
  /** absent where the box has no after-hours room */
  roomDoor?: RoomDoorPort;
}
