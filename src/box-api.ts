import type { Alarm } from '../actors/alarms.js';
import type { CompartmentState } from '../actors/compartment.js';
import type { ErrorCode } from '../actors/domain/errors.js';
import type { RegisterInput } from '../actors/registry.js';
import type { PickupRow } from '../actors/pickup.js';
import type { Hub } from '../actors/runtime/hub.js';
import type { DeepReadonly } from '../actors/runtime/readonly.js';
import type { ActorFailure } from '../actors/runtime/supervisor.js';
import type { Trace } from '../actors/runtime/trace.js';
import type { BoxEvent, Message } from '../actors/runtime/types.js';
import type { OutboxCtx } from '../actors/outbox.js';
import type { SessionView } from '../actors/session.js';
import type { BoxConfig } from './config.js';
import type { AuditRecord } from './persistence/keyv-persistence.js';
import type { Simulation } from './simulation.js';

/**
 * What the GraphQL schema (and any other front) may do with a box: commands that resolve with
 * their own answer (or reject with a catalog code), reads that hand out readonly views, and event
 * streams. No supervisor, storage or driver inside; `createBox` returns an object that has this
 * shape and more (the composition root's handles, for tests and the command line).
 */
export interface BoxApi {
  readonly config: Readonly<BoxConfig>;
  readonly clock: { now(): number };
  /** live domain events (pickup.changed, session.changed, alarm.*) */
  readonly events: Pick<Hub<BoxEvent>, 'listen' | 'iterate'>;
  /** the message trace (never payloads) */
  readonly trace: Pick<Trace, 'entries' | 'listen'>;
  /** every change of a compartment's view, as it commits */
  readonly compartmentChanges: Pick<Hub<CompartmentView>, 'listen' | 'iterate'>;
  /** the harness's control of simulated devices and the simulated clock */
  readonly simulation: Simulation;

  // integration
  registerPickup(pickup: RegisterInput, by?: string): Promise<{ id: string; reference: string; status: string }>;
  cancelPickup(reference: string, by: string): Promise<{ reference: string; status: string; compartmentId: string | null }>;
  // staff
  loadPickup(reference: string, by: string): Promise<{ reference: string; status: string; compartmentId: string }>;
  retrievePickup(reference: string, by: string): Promise<{ reference: string; status: string; compartmentId: string }>;
  reissuePin(reference: string, by: string): Promise<{ reference: string; status: string }>;
  /** after repair: takes a pickup refused with PICKUP_FAILED back into operation (PICKUP_WRONG_STATE if it is not) */
  liftPickupQuarantine(reference: string, by: string): Promise<{ reference: string; status: string }>;
  setCompartmentService(compartmentId: string, inService: boolean, by: string, reason?: string): Promise<{ compartmentId: string; inService: boolean }>;
  clearCompartmentFault(compartmentId: string, by: string): Promise<void>;
  /** After repair: an actor that failed for good (ACTOR_FAILED) back into operation (ACTOR_NOT_FOUND, ACTOR_NOT_FAILED). */
  reviveActor(address: string, by: string): Promise<{ address: string; kind: string }>;
  clearShredder(by: string, binEmptied: boolean): Promise<void>;
  acknowledgeAlarm(id: string, by: string): Promise<Alarm>;
  // kiosk
  startSession(kioskId?: string): Promise<{ sessionId: string }>;
  sessionInput(sessionId: string, command: SessionInputCommand): Promise<SessionView>;
  sessionEvents(sessionId: string): AsyncIterableIterator<SessionView>;
  /** the after-hours room's outside panel: number and PIN of a READY pickup open the room door (the PIN stays valid) */
  enterRoom(kioskId: string, phone: string, pin: string): Promise<{ opened: true; byHours: boolean }>;
  // harness
  inject(to: string, message: Message, from?: string): string;

  // reads: copies, typed read-only; changing one changes nothing in the box
  /** pickups are read from a projection the registry's events keep current (src/pickups-projection.ts), without the PIN hash */
  pickup(reference: string): DeepReadonly<PickupRow> | undefined;
  pickupOrArchived(reference: string): Promise<DeepReadonly<PickupRow> | undefined>;
  /** in registration order; with `keep`, only the pickups it keeps, which are all that is copied */
  pickups(keep?: (p: DeepReadonly<PickupRow>) => boolean): readonly DeepReadonly<PickupRow>[];
  compartment(id: string): Readonly<CompartmentView> | undefined;
  compartments(): readonly Readonly<CompartmentView>[];
  session(id: string): SessionView | undefined;
  devices(): DeepReadonly<DevicesView>;
  alarms(openOnly?: boolean): readonly DeepReadonly<Alarm>[];
  outbox(): DeepReadonly<OutboxCtx>;
  /** where the SMS with this id is in the outbox (null: not there), read without copying the outbox */
  smsState(id: string): 'pending' | 'delivered' | null;
  /** live pickups by status and the SMS outbox's figures, without copying either (metrics) */
  counts(): BoxCounts;
  failures(): readonly Readonly<ActorFailure>[];
  /** pickups refused on their own (PICKUP_FAILED) because handling them kept crashing (their own actor, or the registry's table for a pickup an earlier version registered) */
  quarantinedPickups(): readonly Readonly<QuarantinedPickup>[];
  /** false while commits fail (disk full, Redis down): new work is refused with STORAGE_UNAVAILABLE */
  storageHealthy(): boolean;
  openNow(): boolean;
  nextOpening(): number | null | undefined;
  audit(fromSeq?: number, limit?: number): Promise<AuditRecord[]>;
  auditHead(): Promise<{ seq: number; hash: string }>;
}

/** A pickup whose handling kept crashing (its own actor, or the registry for one an earlier version registered), refused on its own until staff lift it after repair. */
export interface QuarantinedPickup {
  pickupId: string;
  /** the reference as stored (the pickup id when the stored one is not text) */
  reference: string;
  compartmentId: string | null;
  /** the code of the last crash */
  code: ErrorCode;
  at: number;
}

export type SessionInputCommand =
  | { type: 'phone'; phone: string }
  | { type: 'pin'; pin: string }
  | { type: 'factor'; factor: 'oldId' | 'birthDate' }
  | { type: 'birthDate'; birthDate: string }
  | { type: 'cancel' }
  | { type: 'extend' }
  | { type: 'lostPin'; phone: string };

export interface CompartmentView {
  id: string;
  size: string;
  accessible: boolean;
  state: CompartmentState | 'failed';
  door: string;
  lock: string;
  occupied: boolean;
  fault: ErrorCode | null;
  inService: boolean;
}

export interface DevicesView {
  reader: { state: string; available: boolean };
  shredder: { state: string; binFree: number; binCapacity: number; retained: number };
}

/** What monitoring counts, read without copying the pickups or the SMS texts. */
export interface BoxCounts {
  pickupsByStatus: Readonly<Record<string, number>>;
  sms: { pending: number; sent: number; failed: number };
}
