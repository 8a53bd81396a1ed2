/**
 * What the crash soak shares between the box process it kills and the runner that checks it:
 * the box's configuration, the seeded random source, and the ledger — an append-only file of
 * what happened in the physical world, each line fsynced before the process goes on (a pulse is
 * written before the latch moves, an SMS once the phone has it, a document once a hand put it in
 * or took it out, an answer once the caller had it). A SIGKILL never loses a ledger line that an
 * effect depended on; the last line may be cut short and is ignored.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeFileSync, renameSync } from 'node:fs';
import { demoCompartments } from '../../../src/config.js';
import type { BoxConfigInput } from '../../../src/config.js';
import { seeded } from '../../support/random.js';
export { seeded };

/** The box every soak process runs: small enough that compartments run out and get reused. */
export const SOAK_COMPARTMENTS = 12;
export const SOAK_KIOSKS = ['k1', 'k2'];
export const SOAK_BIRTH = '1980-04-12';
export const SOAK_PIN_KEY = 'crash-soak-key-0123456789abcdef-0123456789';
/** A day of the box in the soak: short windows, so expiry, reminders and purges happen in a run. */
export const SOAK_DAY_MS = 24 * 60 * 60 * 1000;

export function soakConfig(storage: string): BoxConfigInput {
  return {
    storage,
    compartments: demoCompartments(SOAK_COMPARTMENTS),
    kiosks: SOAK_KIOSKS,
    hoursPreset: 'always',
    lockPulseMs: 0,
    doorWindowMs: 30_000,
    sessionTimeoutMs: 60_000,
    pickupWindowDays: 1,
    reminderDaysBefore: 0.25,
    auditPeriodDays: 0.5,
    pinKey: SOAK_PIN_KEY,
  };
}

/** A mobile number of its own for every pickup: the citizen's phone is who they are. */
export const phoneOf = (n: number): string => `+49152${20_000_000 + n}`;


/** One ledger line. `t` is the box's (simulated) time when it was written. */
export type LedgerEntry = { t: number; run: number } & (
  | { k: 'start' }
  | { k: 'ready'; ms: number }
  | { k: 'clock' }
  /** about to energise the lock of `c` (written before the pulse) */
  | { k: 'pulse'; c: string }
  /** the phone `to` received SMS `id`; `pin` when it carries one */
  | { k: 'sms'; id: string; to: string; pin: string | null }
  /** an API call was answered with success */
  | { k: 'ack'; op: 'register' | 'load' | 'cancel' | 'retrieve' | 'reissue'; ref: string; phone?: string; c?: string }
  /**
   * A person moved a door. Opening it and what the hand does inside are one line: staff put the
   * document of `put` in, or a hand took everything out (`take`: a citizen who authenticated for
   * `want`, or staff, and what they `got`).
   */
  | { k: 'door'; c: string; door: 'open' | 'closed'; downtime?: boolean; put?: string; take?: { by: 'citizen' | 'staff'; want: string | null; got: string[] } }
  /** a request still had no answer when its ask timed out, the box otherwise idle */
  | { k: 'unanswered'; what: string }
  /** staff looked into `c` with the service key and took out documents no pickup there owns */
  | { k: 'emptied'; c: string; got: string[] }
  /** what the box process found right after its recovery */
  | { k: 'check'; deadKiosks: string[]; stuck: string[]; lost: string[]; pins?: string[] }
);

type Body<E> = E extends unknown ? Omit<E, 't' | 'run'> : never;
export type LedgerBody = Body<LedgerEntry>;

/** The physical world as the ledger left it: the time, the doors, what lies in each compartment, the PINs on the phones. */
export interface World {
  now: number;
  doors: Record<string, 'open' | 'closed'>;
  contents: Record<string, string[]>;
  /** the last PIN each phone received */
  pins: Record<string, string>;
  /** pickups registered so far (numbers for references and phones) */
  registered: number;
}

export function emptyWorld(start: number): World {
  return { now: start, doors: {}, contents: {}, pins: {}, registered: 0 };
}

/** Applies one ledger line to the world. */
export function apply(world: World, e: LedgerEntry): void {
  if (e.t > world.now) world.now = e.t;
  switch (e.k) {
    case 'sms':
      if (e.pin) world.pins[e.to] = e.pin;
      break;
    case 'door':
      world.doors[e.c] = e.door;
      if (e.take) world.contents[e.c] = [];
      if (e.put) world.contents[e.c] = [...(world.contents[e.c] ?? []), e.put];
      break;
    case 'emptied':
      world.contents[e.c] = (world.contents[e.c] ?? []).filter((r) => !e.got.includes(r));
      break;
    case 'ack':
      if (e.op === 'register') world.registered++;
      break;
    default:
      break;
  }
}

/** The ledger file: appends with fsync, reads whole lines from an offset. */
export class Ledger {
  private fd: number | null = null;

  constructor(
    readonly file: string,
    private readonly run: number,
    private readonly now: () => number,
  ) {}

  append(body: LedgerBody): void {
    this.fd ??= openSync(this.file, 'a');
    appendFileSync(this.fd, `${JSON.stringify({ ...body, t: this.now(), run: this.run })}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Lines from byte `offset` on, and the offset after the last whole line. A cut-off last line is dropped from the file. */
  static read(file: string, offset: number): { entries: LedgerEntry[]; offset: number } {
    if (!existsSync(file)) return { entries: [], offset };
    const buffer = readFileSync(file);
    const end = buffer.lastIndexOf(0x0a) + 1;
    // A line the kill cut short never happened: the next process appends after the last whole line.
    if (end < buffer.length) truncateSync(file, end);
    if (end <= offset) return { entries: [], offset };
    const text = buffer.subarray(offset, end).toString('utf8');
    return { entries: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LedgerEntry), offset: end };
  }
}

/** Writes the world for the next process, atomically (rename over the old file). */
export function saveWorld(file: string, world: World): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(world));
  renameSync(`${file}.tmp`, file);
}

export function loadWorld(file: string): World {
  return JSON.parse(readFileSync(file, 'utf8')) as World;
}

/** Where a box process dies: a kind of point and which occurrence of it. */
export interface KillPlan {
  kind: KillKind;
  /** the nth occurrence of the point in this process (for `timer`: milliseconds after ready) */
  n: number;
}

export const KILL_KINDS = ['commit-before', 'commit-after', 'statement', 'pulse-before', 'pulse-after', 'sms-before', 'sms-after', 'timer'] as const;
export type KillKind = (typeof KILL_KINDS)[number];

/** The kill plan of run `i`: seeded, so a soak replays by its seed. */
export function killPlan(random: () => number): KillPlan {
  const r = random();
  const kind: KillKind =
    r < 0.18 ? 'commit-before' : r < 0.36 ? 'commit-after' : r < 0.46 ? 'statement' : r < 0.58 ? 'pulse-before' : r < 0.7 ? 'pulse-after' : r < 0.78 ? 'sms-before' : r < 0.86 ? 'sms-after' : 'timer';
  const span: Record<KillKind, [number, number]> = {
    'commit-before': [1, 40],
    'commit-after': [1, 40],
    statement: [1, 250],
    'pulse-before': [1, 4],
    'pulse-after': [1, 4],
    'sms-before': [1, 3],
    'sms-after': [1, 3],
    timer: [30, 1_000],
  };
  const [lo, hi] = span[kind];
  return { kind, n: lo + Math.floor(random() * (hi - lo + 1)) };
}
