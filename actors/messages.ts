import { z } from 'zod';
import { ERRORS, type ErrorCode } from './domain/errors.js';
import { REPLIES } from './runtime/ask.js';

/**
 * Shared vocabulary between actors: addresses and the small records that cross actor boundaries.
 * Each actor's own messages (a zod schema and the union inferred from it) live beside it in its file.
 */

/** A catalog code inside a message. */
export const errorCode = z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]);
/** The fields of a message sent with `ask` (required: the actor always answers). */
export const request = { requestId: z.string(), replyTo: z.literal(REPLIES) };
/** The same, for messages that may be sent with `ask` or told. */
export const maybeAsked = { requestId: z.string().optional(), replyTo: z.literal(REPLIES).optional() };

export const REGISTRY = 'registry';
/** Every pickup is an actor of its own (actors/pickup-actor.ts): `pickup/<id>`. */
export const PICKUP_PREFIX = 'pickup/';
/**
 * Where the messages that concern one pickup go: its own actor, `pickup/<id>`. One an earlier
 * version registered is still in the registry's table, and one archived has no actor any more:
 * the supervisor passes a message to a pickup without an actor to the registry (the box's `fallback`).
 */
export const pickupAddress = (id: string): `pickup/${string}` => `pickup/${id}`;
/**
 * Whether the pickup `id` existed when the registry had counted up to `upTo` (its ids are `P<n>`,
 * n counted up): a catch-up that names the pickups with a PIN or a compartment does not name one
 * made later, which must keep what it has. An id of another form was made by an earlier version.
 */
export const pickupKnownBy = (id: string, upTo: number): boolean => {
  const n = /^P(\d+)$/.exec(id)?.[1];
  return n === undefined || Number(n) <= upTo;
};
/** checks PINs typed at the panels, holds their hashes and the throttles (actors/auth.ts) */
export const AUTH = 'auth';
/** chooses compartments for pickups and holds their claims (actors/allocation.ts) */
export const ALLOCATION = 'allocation';
export const ALARMS = 'alarms';
export const OUTBOX = 'outbox';
export const READER = 'reader/1';
export const SHREDDER = 'shredder/1';
/** the after-hours room's door (only where the layout has one) */
export const ROOM_DOOR = 'door/room';
export const compartmentAddress = (id: string): `compartment/${string}` => `compartment/${id}`;
export const sessionAddress = (id: string): `session/${string}` => `session/${id}`;
export const kioskAddress = (id: string): `kiosk/${string}` => `kiosk/${id}`;

export const SIZES = ['S', 'M', 'L', 'XL'] as const;
export type Size = (typeof SIZES)[number];

/** Why a lock is pulsed: every unlock is traceable to an authenticated session or a staff member. */
export const causeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), sessionId: z.string(), pickupId: z.string() }),
  z.object({ kind: z.literal('staff'), staffId: z.string() }),
]);
export type Cause = z.infer<typeof causeSchema>;

/** What an unlock is for. */
export const purposeSchema = z.enum(['load', 'collect', 'retrieve', 'service']);
export type Purpose = z.infer<typeof purposeSchema>;

export const severitySchema = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof severitySchema>;

export const alarmRaiseSchema = z.object({
  type: z.literal('alarm.raise'),
  /** one open alarm per key: raising it again does not duplicate it */
  key: z.string(),
  code: errorCode,
  severity: severitySchema,
  subject: z.string(),
  text: z.string(),
});
export type AlarmRaise = z.infer<typeof alarmRaiseSchema>;

/** The outbox tells the registry that the SMS carrying a PIN is committed (sent as the SMS's `ack`). */
export const pinQueuedSchema = z.object({ type: z.literal('pin.queued'), pickupId: z.string(), serial: z.number() });
export type PinQueued = z.infer<typeof pinQueuedSchema>;

export const alarmClearSchema = z.object({ type: z.literal('alarm.clear'), key: z.string() });
export type AlarmClear = z.infer<typeof alarmClearSchema>;

export const raise = (key: string, code: ErrorCode, severity: Severity, subject: string, text: string): AlarmRaise => ({
  type: 'alarm.raise',
  key,
  code,
  severity,
  subject,
  text,
});
export const clear = (key: string): AlarmClear => ({ type: 'alarm.clear', key });
