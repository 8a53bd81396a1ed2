/**
 * The fleet's wire format on Redis Streams. Each box writes its events to its own stream
 * `fleet:events:<boxId>` with the entry id `0-<seq>` (its per-box sequence number), so that Redis
 * itself refuses a second copy of an event a box sends again after a crash; the central service
 * reads every box's stream in the consumer group `central`. Commands for a box go to
 * `fleet:commands:<boxId>`, read by the box in the group `box`.
 *
 * Events carry no personal data beyond what the municipal registry holds: reference, status,
 * compartment and times — never a phone number, a birth date, a document number or a PIN.
 */

export const BOXES_KEY = 'fleet:boxes';
export const CONTACT_KEY = 'fleet:contact';
export const CENTRAL_GROUP = 'central';
export const BOX_GROUP = 'box';
export const eventsStream = (boxId: string): string => `fleet:events:${boxId}`;
export const commandsStream = (boxId: string): string => `fleet:commands:${boxId}`;
export const boxOfStream = (stream: string): string => stream.slice('fleet:events:'.length);

/** What a box reports; every type is a change the registry, a monitor or an operator may act on. */
export type FleetEventType =
  | 'pickup.changed'
  | 'session.ended'
  | 'alarm.raised'
  | 'alarm.cleared'
  | 'alarm.acknowledged'
  | 'box.health'
  | 'box.snapshot'
  | 'audit.head'
  | 'command.outcome';

/** One event of one box. `id` is `<boxId>:<seq>`: stable across retries, crashes and redeliveries. */
export interface FleetEvent {
  id: string;
  boxId: string;
  seq: number;
  type: FleetEventType;
  /** when it happened on the box (ms since the epoch, the box's clock) */
  at: number;
  data: Record<string, unknown>;
}

export type FleetCommandType = 'register' | 'cancel' | 'reissuePin' | 'service';

/** A command for one box; `id` makes it run once however often it is delivered. */
export interface FleetCommand {
  id: string;
  boxId: string;
  type: FleetCommandType;
  payload: Record<string, unknown>;
  issuedAt: number;
  /** wall-clock time after which the box refuses it (COMMAND_EXPIRED) */
  expiresAt: number;
}

/** How a command ended on its box, carried back as a `command.outcome` event. */
export type CommandOutcome =
  | { commandId: string; type: FleetCommandType; ok: true; value: Record<string, unknown> }
  | { commandId: string; type: FleetCommandType; ok: false; code: string; message: string };

const BOX_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Whether `id` can name a box in stream keys (letters, digits, `-` and `_`, at most 64). */
export const isBoxId = (id: string): boolean => BOX_ID.test(id);

export const streamId = (seq: number): string => `0-${seq}`;

export function encodeEvent(e: FleetEvent): Record<string, string> {
  return { id: e.id, box: e.boxId, seq: String(e.seq), type: e.type, at: String(e.at), data: JSON.stringify(e.data) };
}

export function decodeEvent(fields: Record<string, string>): FleetEvent {
  return { id: fields.id!, boxId: fields.box!, seq: Number(fields.seq), type: fields.type as FleetEventType, at: Number(fields.at), data: JSON.parse(fields.data ?? '{}') };
}

export function encodeCommand(c: FleetCommand): Record<string, string> {
  return { id: c.id, box: c.boxId, type: c.type, payload: JSON.stringify(c.payload), issuedAt: String(c.issuedAt), expiresAt: String(c.expiresAt) };
}

export function decodeCommand(fields: Record<string, string>): FleetCommand {
  return {
    id: fields.id!,
    boxId: fields.box!,
    type: fields.type as FleetCommandType,
    payload: JSON.parse(fields.payload ?? '{}'),
    issuedAt: Number(fields.issuedAt),
    expiresAt: Number(fields.expiresAt),
  };
}

/** Redis refuses an XADD whose explicit id is not above the stream's top: the event is there already. */
export const isDuplicateId = (error: unknown): boolean => /equal or smaller than the target stream top item/i.test(String((error as Error)?.message ?? error));
