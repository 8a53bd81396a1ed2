/**
 * Shared vocabulary between actors: addresses and the small records that cross actor boundaries.
 * Each actor's own events live beside it in its file.
 */

export const REGISTRY = 'registry';
export const ALARMS = 'alarms';
export const OUTBOX = 'outbox';
export const READER = 'reader/1';
export const SHREDDER = 'shredder/1';
/** the after-hours room's door (only where the layout has one) */
export const ROOM_DOOR = 'door/room';
export const compartmentAddress = (id: string): string => `compartment/${id}`;
export const sessionAddress = (id: string): string => `session/${id}`;
export const kioskAddress = (id: string): string => `kiosk/${id}`;

export type Size = 'S' | 'M' | 'L' | 'XL';
export const SIZES: readonly Size[] = ['S', 'M', 'L', 'XL'];

/** Why a lock is pulsed: every unlock is traceable to an authenticated session or a staff member. */
export type Cause = { kind: 'session'; sessionId: string; pickupId: string } | { kind: 'staff'; staffId: string };

/** What an unlock is for. */
export type Purpose = 'load' | 'collect' | 'retrieve' | 'service';

export type Severity = 'info' | 'warning' | 'critical';

export type AlarmRaise = {
  type: 'alarm.raise';
  /** one open alarm per key: raising it again does not duplicate it */
  key: string;
  code: string;
  severity: Severity;
  subject: string;
  text: string;
};

export type AlarmClear = {
  type: 'alarm.clear';
  key: string;
};

export const raise = (key: string, code: string, severity: Severity, subject: string, text: string): AlarmRaise => ({
  type: 'alarm.raise',
  key,
  code,
  severity,
  subject,
  text,
});
export const clear = (key: string): AlarmClear => ({ type: 'alarm.clear', key });
