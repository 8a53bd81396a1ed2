import { alarmsActor, isOpen as alarmIsOpen, type Alarm, type AlarmsCtx } from '../actors/alarms.js';
import { compartmentActor, type CompartmentCtx } from '../actors/compartment.js';
import { DomainError, type ErrorCode } from '../actors/domain/errors.js';
import { isOpen, nextOpening } from '../actors/domain/hours.js';
import { kioskActor } from '../actors/kiosk.js';
import { ALARMS, OUTBOX, READER, REGISTRY, SHREDDER, clear, compartmentAddress, kioskAddress, raise, sessionAddress } from '../actors/messages.js';
import { outboxActor, type OutboxCtx } from '../actors/outbox.js';
import { readerActor, type ReaderCtx } from '../actors/reader.js';
import { registryActor, type Pickup, type RegisterInput, type RegistryCtx } from '../actors/registry.js';
import { SimulatedClock, SystemClock, type Clock } from '../actors/runtime/clock.js';
import { Hub } from '../actors/runtime/hub.js';
import { Supervisor } from '../actors/runtime/supervisor.js';
import type { BoxEvent, Message } from '../actors/runtime/types.js';
import { INPUT_STEPS, sessionActor, type SessionCtx } from '../actors/session.js';
import { shredderActor, type ShredderCtx } from '../actors/shredder.js';
import { openI2cBus } from '../drivers/i2c/i2c-bus-adapter.js';
import { createSimulatedLockBank, I2cLockBank, type SimulatedLockBank } from '../drivers/i2c/lock-bank.js';
import type { I2cPort } from '../drivers/i2c/port.js';
import type { Hardware, PhysicalWorld } from '../drivers/ports.js';
import { SimulatedCardReader, SimulatedLocks, SimulatedShredder, SimulatedSmsGateway } from '../drivers/sim/devices.js';
import { DAY, hoursText, resolveConfig, type BoxConfig, type BoxConfigInput } from './config.js';
import { registryCrypto } from './crypto.js';
import { openPersistence, type Persistence } from './persistence/keyv-persistence.js';

/** The simulated devices of a box that runs without hardware, for tests and the harness. */
export interface SimulatedHardware extends Hardware {
  locks: SimulatedLocks;
  reader: SimulatedCardReader;
  shredder: SimulatedShredder;
  sms: SimulatedSmsGateway;
}

export interface CreateBoxOptions {
  clock?: Clock;
  /** real or simulated devices; simulated ones are built when absent */
  hardware?: Hardware;
  /** source of PINs (tests may pin it; production uses the CSPRNG) */
  generatePin?: () => string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export type SessionInputCommand =
  | { type: 'phone'; phone: string }
  | { type: 'pin'; pin: string }
  | { type: 'factor'; factor: 'oldId' | 'birthDate' }
  | { type: 'birthDate'; birthDate: string }
  | { type: 'cancel' };

export interface CompartmentView {
  id: string;
  size: string;
  accessible: boolean;
  state: CompartmentCtx['state'] | 'failed';
  door: string;
  lock: string;
  occupied: boolean;
  fault: string | null;
  inService: boolean;
}

export interface SessionView {
  id: string;
  kioskId: string;
  step: SessionCtx['step'];
  error: string | null;
  retryAt: number | null;
  oldIdPossible: boolean;
  compartmentId: string | null;
  outcome: SessionCtx['outcome'];
}

export type Box = Awaited<ReturnType<typeof createBox>>;

/**
 * Builds and starts a box: storage, hardware, the supervisor and every actor. Does not listen on
 * any socket; the GraphQL servers and the command line wrap it.
 */
export async function createBox(input: BoxConfigInput = {}, options: CreateBoxOptions = {}) {
  const config: BoxConfig = resolveConfig(input);
  const clock = options.clock ?? new SystemClock();
  const persistence: Persistence = await openPersistence(config.storage, { namespace: config.storageNamespace });
  const { hardware, world, i2c } = options.hardware
    ? { hardware: options.hardware, world: options.hardware.locks instanceof SimulatedLocks ? options.hardware.locks : null, i2c: null }
    : await buildHardware(config, clock);
  const crypto = registryCrypto(Buffer.from(config.pinKey, 'utf8'), options.generatePin);

  const behaviors = [
    registryActor(
      {
        windowMs: config.pickupWindowDays * DAY,
        reminderBeforeMs: config.reminderDaysBefore * DAY,
        purgeAfterMs: config.auditPeriodDays * DAY,
        maxFailedAttempts: config.maxFailedAttempts,
        throttleFree: config.throttle.free,
        throttleBaseMs: config.throttle.baseMs,
        throttleMaxMs: config.throttle.maxMs,
        claimMs: 5 * 60_000,
        timeZone: config.timeZone,
        location: config.location,
        hoursText: hoursText(config),
      },
      crypto,
      persistence,
      { archive: (p) => persistence.kv.set(`archive:${p.reference}`, p).then(() => undefined) },
      config.name,
    ),
    compartmentActor(
      { doorWindowMs: config.doorWindowMs, doorLeftOpenMs: config.doorLeftOpenMs },
      {
        pulse: (id) => hardware.locks.pulse(id),
        door: async (id) => (await hardware.locks.readDoors()).get(id) ?? 'closed',
      },
    ),
    readerActor(hardware.reader),
    shredderActor(hardware.shredder),
    sessionActor({ inactivityMs: config.sessionTimeoutMs, lingerMs: 5_000, maxPinRejections: 3, timeZone: config.timeZone }),
    kioskActor(config.hours),
    outboxActor(config.sms, hardware.sms),
    alarmsActor,
  ];

  const supervisor = new Supervisor({
    clock,
    persistence,
    behaviors,
    intensity: config.restartIntensity,
    escalateTo: REGISTRY,
    log: options.log,
  });

  // Replies to API requests come back to one mounted endpoint.
  let requestSeq = 0;
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  supervisor.mount('api', (message) => {
    const m = message as Message & { requestId?: string; ok?: boolean; value?: unknown; code?: string; message?: string; details?: Record<string, unknown> };
    const waiter = m.requestId ? pending.get(m.requestId) : undefined;
    if (!waiter) return;
    pending.delete(m.requestId!);
    if (m.ok) waiter.resolve(m.value);
    else waiter.reject(new DomainError((m.code ?? 'INTERNAL') as ErrorCode, m.message ?? m.code ?? 'request failed', m.details));
  });
  /** Sends a request to an actor and waits for its reply. */
  const ask = <T>(to: string, message: Record<string, unknown> & { type: string }, from = 'api'): Promise<T> => {
    const requestId = `r${++requestSeq}`;
    return new Promise<T>((resolve, reject) => {
      pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
      supervisor.send(to, { ...message, requestId, replyTo: 'api' }, from);
    });
  };

  const restored = await supervisor.restore();
  const fresh = restored.length === 0;
  await supervisor.spawn(REGISTRY, 'registry', { compartments: config.compartments });
  await supervisor.spawn(ALARMS, 'alarms');
  await supervisor.spawn(OUTBOX, 'outbox');
  await supervisor.spawn(READER, 'reader');
  await supervisor.spawn(SHREDDER, 'shredder');
  for (const c of config.compartments) await supervisor.spawn(compartmentAddress(c.id), 'compartment', c);
  for (const k of config.kiosks) await supervisor.spawn(kioskAddress(k), 'kiosk', { id: k });

  // Hardware events enter the actor system as messages.
  await hardware.locks.start();
  const unsubscribe = [
    hardware.locks.onDoorChange((e) => supervisor.send(compartmentAddress(e.compartment), { type: 'door.changed', door: e.door }, 'hw/locks')),
    hardware.locks.onBoardStatus((e) => {
      const from = `hw/board/${e.board}`;
      const key = `board:${e.board}`;
      supervisor.send(
        ALARMS,
        e.ok ? clear(key) : raise(key, e.code ?? 'BOARD_FAULT', 'critical', e.board, `Lock board ${e.board} failed (${e.code ?? 'BOARD_FAULT'}): compartments ${e.compartments.join(', ')} are out of service`),
        from,
      );
      for (const c of e.compartments) supervisor.send(compartmentAddress(c), { type: 'board.status', ok: e.ok, code: e.code }, from);
    }),
    hardware.reader.onCardInserted(() => supervisor.send(READER, { type: 'card.inserted' }, 'hw/reader')),
  ];
  await supervisor.idle();

  const registry = () => supervisor.view<RegistryCtx>(REGISTRY)!.ctx;
  const findPickup = (reference: string): Pickup | undefined => {
    const ctx = registry();
    const id = ctx.byReference[reference.trim()];
    return id ? ctx.pickups[id] : undefined;
  };

  const compartmentView = (id: string): CompartmentView | undefined => {
    const v = supervisor.view<CompartmentCtx>(compartmentAddress(id));
    if (!v) return undefined;
    const c = v.ctx;
    return {
      id: c.id,
      size: c.size,
      accessible: c.accessible,
      state: v.status === 'failed' ? 'failed' : c.state,
      door: c.door,
      lock: c.lock,
      occupied: c.pickupId !== null,
      fault: v.status === 'failed' ? 'ACTOR_FAILED' : (c.fault?.code ?? null),
      inService: v.status !== 'failed' && c.state !== 'outOfService',
    };
  };

  const sessionView = (id: string): SessionView | undefined => {
    const v = supervisor.view<SessionCtx>(sessionAddress(id));
    if (!v) return undefined;
    const s = v.ctx;
    return { id: s.id, kioskId: s.kioskId, step: s.step, error: s.error, retryAt: s.retryAt, oldIdPossible: s.oldIdPossible, compartmentId: s.compartmentId, outcome: s.outcome };
  };

  // One read model for every compartment subscriber: each committed change is turned into a view
  // once, here, and only real changes of what a monitor sees go out.
  const compartmentChanges = new Hub<CompartmentView>();
  const lastViews = new Map<string, string>(config.compartments.map((c) => [c.id, JSON.stringify(compartmentView(c.id))]));
  unsubscribe.push(
    supervisor.changes.listen(({ address, kind }) => {
      if (kind !== 'compartment') return;
      const view = compartmentView(address.slice('compartment/'.length));
      if (!view) return;
      const text = JSON.stringify(view);
      if (lastViews.get(view.id) === text) return;
      lastViews.set(view.id, text);
      compartmentChanges.publish(view);
    }),
  );

  const box = {
    config,
    clock,
    supervisor,
    persistence,
    hardware,
    /** the physical side of simulated hardware (doors a test opens); null on real hardware */
    world,
    /** the register-level simulated I2C buses and boards, when the box runs on them */
    i2c,
    /** true when this start found no earlier state */
    fresh,
    events: supervisor.events,
    trace: supervisor.trace,
    /** every change of a compartment's view (state, door, lock, fault, service), as it commits */
    compartmentChanges,

    // --- integration ------------------------------------------------------------------------
    registerPickup: (pickup: RegisterInput, by = 'integration') =>
      ask<{ id: string; reference: string; status: string }>(REGISTRY, { type: 'pickup.register', input: pickup }, `api/${by}`),
    cancelPickup: (reference: string, by: string) =>
      ask<{ reference: string; status: string; compartmentId: string | null }>(REGISTRY, { type: 'pickup.cancel', reference, by }),

    // --- staff ------------------------------------------------------------------------------
    loadPickup: (reference: string, by: string) => ask<{ reference: string; status: string; compartmentId: string }>(REGISTRY, { type: 'pickup.load', reference, by }),
    retrievePickup: (reference: string, by: string) => ask<{ reference: string; status: string; compartmentId: string }>(REGISTRY, { type: 'pickup.retrieve', reference, by }),
    reissuePin: (reference: string, by: string) => ask<{ reference: string; status: string }>(REGISTRY, { type: 'pickup.reissuePin', reference, by }),
    setCompartmentService: (compartmentId: string, inService: boolean, by: string, reason = '') =>
      ask<{ compartmentId: string; inService: boolean }>(REGISTRY, { type: 'compartment.service', compartmentId, inService, by, reason }),
    clearCompartmentFault: (compartmentId: string, by: string) => {
      if (!supervisor.has(compartmentAddress(compartmentId))) throw new DomainError('COMPARTMENT_NOT_FOUND', `no compartment ${compartmentId}`);
      supervisor.send(compartmentAddress(compartmentId), { type: 'fault.clear', by }, `api/${by}`);
    },
    clearShredder: (by: string, binEmptied: boolean) => {
      if (binEmptied && hardware.shredder instanceof SimulatedShredder) hardware.shredder.emptyBin();
      supervisor.send(SHREDDER, { type: 'clear', by, binEmptied, binFree: hardware.shredder.binFree() }, `api/${by}`);
    },
    acknowledgeAlarm: (id: string, by: string) => ask<Alarm>(ALARMS, { type: 'alarm.ack', id, by }),

    // --- kiosk ------------------------------------------------------------------------------
    startSession: (kioskId = config.kiosks[0]!) => {
      if (!supervisor.has(kioskAddress(kioskId))) return Promise.reject(new DomainError('SESSION_NOT_FOUND', `no kiosk ${kioskId}`));
      return ask<{ sessionId: string }>(kioskAddress(kioskId), { type: 'session.start' }, `api/kiosk/${kioskId}`);
    },
    /** Passes one input of the panel to its session; refuses inputs the session does not expect now. */
    sessionInput(sessionId: string, command: SessionInputCommand): void {
      const v = supervisor.view<SessionCtx>(sessionAddress(sessionId));
      if (!v || v.status !== 'active' || v.ctx.step === 'done') throw new DomainError('SESSION_NOT_FOUND', `no running session ${sessionId}`);
      const { type, ...payload } = command;
      const messageType = `input.${type}`;
      if (!INPUT_STEPS[messageType]?.includes(v.ctx.step)) {
        throw new DomainError('SESSION_WRONG_STEP', `session ${sessionId} is at step ${v.ctx.step} and does not take ${type} now`);
      }
      supervisor.send(sessionAddress(sessionId), { type: messageType, ...payload }, `api/kiosk/${v.ctx.kioskId}`);
    },

    // --- reads ------------------------------------------------------------------------------
    /** A live pickup (registered, in the box, or ended within the audit period). */
    pickup: findPickup,
    /** A live pickup, or an ended one from the archive (without personal data). */
    pickupOrArchived: async (reference: string): Promise<Pickup | undefined> =>
      findPickup(reference) ?? (await persistence.kv.get<Pickup>(`archive:${reference.trim()}`)),
    pickups: (): Pickup[] => Object.values(registry().pickups),
    compartment: compartmentView,
    compartments: (): CompartmentView[] => config.compartments.map((c) => compartmentView(c.id)!),
    session: sessionView,
    devices: () => {
      const reader = supervisor.view<ReaderCtx>(READER)!;
      const shredder = supervisor.view<ShredderCtx>(SHREDDER)!;
      return {
        reader: { state: reader.status === 'failed' ? 'failed' : reader.ctx.state, available: reader.status === 'active' && reader.ctx.state !== 'disabled' },
        shredder: {
          state: shredder.status === 'failed' ? 'failed' : shredder.ctx.state,
          binFree: shredder.ctx.binFree,
          binCapacity: shredder.ctx.binCapacity,
          retained: shredder.ctx.retained.length,
        },
      };
    },
    alarms: (openOnly = false): Alarm[] => {
      const all = supervisor.view<AlarmsCtx>(ALARMS)!.ctx.alarms;
      return openOnly ? all.filter(alarmIsOpen) : all;
    },
    outbox: () => supervisor.view<OutboxCtx>(OUTBOX)!.ctx,
    openNow: () => isOpen(config.hours, clock.now()),
    nextOpening: () => nextOpening(config.hours, clock.now()),
    audit: (fromSeq = 1, limit = 1_000) => persistence.readAudit(fromSeq, limit),

    /** Everything a monitor sees at once: the box, its compartments, devices, live pickups, open alarms, running sessions. */
    snapshot() {
      return {
        box: { name: config.name, openNow: isOpen(config.hours, clock.now()), nextOpening: nextOpening(config.hours, clock.now()) },
        compartments: config.compartments.map((c) => compartmentView(c.id)!),
        devices: box.devices(),
        pickups: Object.values(registry().pickups).map(({ phone: _p, birthDate: _b, oldDocumentNumber: _o, pinHash: _h, ...rest }) => rest),
        alarms: box.alarms(true),
        sessions: supervisor.viewsOf<SessionCtx>('session').map((v) => sessionView(v.ctx.id)!),
      };
    },

    // --- harness ----------------------------------------------------------------------------
    /** Sends any message to any actor, as the test harness does (alias: `send`). */
    inject: (to: string, message: Message, from = 'harness') => supervisor.send(to, message, from),
    send: (to: string, message: Message, from = 'harness') => supervisor.send(to, message, from),
    /** Waits until the actors have nothing left to do but wait for time. */
    idle: () => supervisor.idle(),
    /** Moves a simulated clock forward, letting every timer's work finish in order. */
    advance: async (ms: number) => {
      if (!(clock instanceof SimulatedClock)) throw new DomainError('HARNESS_UNSUPPORTED', 'the box runs on the system clock; only a simulated clock can be advanced');
      await clock.advance(ms, () => supervisor.idle());
    },
    onEvent: (fn: (e: BoxEvent) => void) => supervisor.events.listen(fn),

    async close(): Promise<void> {
      for (const u of unsubscribe) u();
      await supervisor.idle().catch(() => {});
      await supervisor.close();
      await hardware.locks.close();
      for (const w of pending.values()) w.reject(new DomainError('INTERNAL', 'box closed'));
      pending.clear();
      await persistence.close();
    },
  };
  return box;
}

/** Builds the devices the configuration asks for. */
async function buildHardware(config: BoxConfig, clock: Clock): Promise<{ hardware: Hardware; world: PhysicalWorld | null; i2c: SimulatedLockBank | null }> {
  const devices = simulatedHardware(config, clock);
  if (config.hardware === 'simulated' || !config.layout) return { hardware: devices, world: devices.locks, i2c: null };
  if (config.hardware === 'i2c-sim') {
    const bank = createSimulatedLockBank(config.layout, clock, { busKHz: config.i2c.busKHz, pollMs: config.i2c.pollMs, relatchAfterMs: config.doorWindowMs });
    const w = bank.world;
    const world: PhysicalWorld = {
      openDoor: (c) => w.open(c),
      closeDoor: (c) => w.close(c),
      forceDoor: (c) => w.forceOpen(c),
      jamLock: (c, jammed = true) => w.jam(c, jammed),
      door: (c) => (w.view(c).doorOpen ? 'open' : 'closed'),
      latched: (c) => w.view(c).latched,
    };
    return { hardware: { ...devices, locks: bank.locks }, world, i2c: bank };
  }
  // Real boards. Card reader, shredder and SMS gateway stay simulated until their drivers exist.
  const buses = new Map<number, I2cPort>();
  for (const board of config.layout.boards) if (!buses.has(board.bus)) buses.set(board.bus, await openI2cBus(board.bus));
  const locks = new I2cLockBank({ layout: config.layout, buses, clock, pollMs: config.i2c.pollMs });
  return { hardware: { ...devices, locks }, world: null, i2c: null };
}

export function simulatedHardware(config: BoxConfig, clock: Clock): SimulatedHardware {
  const shredder = new SimulatedShredder(config.shredderBinCapacity);
  return {
    locks: new SimulatedLocks(
      config.compartments.map((c) => c.id),
      clock,
      { pulseMs: config.lockPulseMs, latchHoldMs: config.doorWindowMs },
    ),
    reader: new SimulatedCardReader(shredder),
    shredder,
    sms: new SimulatedSmsGateway(),
  };
}
