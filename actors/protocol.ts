import type { AlarmsEvent } from './alarms.js';
import type { AllocationEvent } from './allocation.js';
import type { AuthEvent } from './auth.js';
import type { CompartmentEvent } from './compartment.js';
import type { KioskEvent } from './kiosk.js';
import type { ALARMS, ALLOCATION, AUTH, OUTBOX, READER, REGISTRY, ROOM_DOOR, SHREDDER } from './messages.js';
import type { OutboxEvent } from './outbox.js';
import type { PickupEvent } from './pickup-actor.js';
import type { ReaderEvent } from './reader.js';
import type { RegistryEvent } from './registry.js';
import type { RoomDoorEvent } from './room-door.js';
import type { SessionEvent } from './session.js';
import type { ShredderEvent } from './shredder.js';
import type { Reply, REPLIES } from './runtime/ask.js';
import type { Enqueue } from './runtime/define.js';
import type { AddressIn, AskableTo, MessageTo, Outgoing } from './runtime/types.js';

/**
 * The box's protocol: every kind of actor with the addresses it lives at and the message union it
 * takes (each inferred from the actor's own zod schema). The supervisor and every handler's `send`
 * are typed with it, so a message sent to an actor that does not take it — or a message type
 * renamed on one side only — fails `tsc` instead of dying as a dead letter.
 */
export type BoxProtocol = {
  registry: { address: typeof REGISTRY; message: RegistryEvent };
  /** one pickup (actors/pickup-actor.ts), spawned by the registry as it registers it */
  pickup: { address: `pickup/${string}`; message: PickupEvent };
  auth: { address: typeof AUTH; message: AuthEvent };
  allocation: { address: typeof ALLOCATION; message: AllocationEvent };
  compartment: { address: `compartment/${string}`; message: CompartmentEvent };
  session: { address: `session/${string}`; message: SessionEvent };
  kiosk: { address: `kiosk/${string}`; message: KioskEvent };
  reader: { address: typeof READER; message: ReaderEvent };
  shredder: { address: typeof SHREDDER; message: ShredderEvent };
  outbox: { address: typeof OUTBOX; message: OutboxEvent };
  alarms: { address: typeof ALARMS; message: AlarmsEvent };
  roomDoor: { address: typeof ROOM_DOOR; message: RoomDoorEvent };
  /** where answers to `ask` go (the supervisor mounts it) */
  replies: { address: typeof REPLIES; message: Reply };
};

/** Every address of the box, as a type: `registry`, `compartment/A07`, `session/1-4`, … */
export type BoxAddress = AddressIn<BoxProtocol>;
/** The messages the actor at `A` takes. */
export type BoxMessageTo<A extends string> = MessageTo<BoxProtocol, A>;
/** What the box's API may ask the actor at `A` (without the request fields `ask` adds). */
export type BoxAskableTo<A extends string> = AskableTo<BoxProtocol, A>;
/** A message with an address that takes it: what a handler's `send` effect carries. */
export type BoxOutgoing = Outgoing<BoxProtocol>;
/** A handler's effect queue, with `send` typed by the box's protocol. */
export type BoxEnqueue<C extends Record<string, any>, Io = never> = Enqueue<C, Io, BoxOutgoing>;
