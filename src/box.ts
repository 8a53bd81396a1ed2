import { alarmsActor, isOpen as alarmIsOpen, type Alarm, type AlarmsCtx } from '../actors/alarms.js';
import { compartmentActor, type CompartmentCtx } from '../actors/compartment.js';
import { DomainError, isDomainError, toErrorCode, type ErrorCode } from '../actors/domain/errors.js';
import { DUESSELDORF_HOURS, isOpen, nextOpening, validateOpeningHours } from '../actors/domain/hours.js';
import { kioskActor } from '../actors/kiosk.js';
import { allocationActor } from '../actors/allocation.js';
import { authActor } from '../actors/auth.js';
import { ALARMS, ALLOCATION, AUTH, ROOM_DOOR, OUTBOX, PICKUP_PREFIX, READER, REGISTRY, SHREDDER, clear, compartmentAddress, kioskAddress, pickupAddress, raise, sessionAddress } from '../actors/messages.js';
import { outboxActor, type OutboxCtx } from '../actors/outbox.js';
import { readerActor, type ReaderCtx } from '../actors/reader.js';
import { registryActor, type RegisterInput, type RegistryCtx } from '../actors/registry.js';
import { PICKUP_ROW, type Pickup, type PickupPolicy, type PickupRow } from '../actors/pickup.js';
import { pickupActor, type PickupArchive } from '../actors/pickup-actor.js';
import { SystemClock, type Clock } from '../actors/runtime/clock.js';
import { Hub, pushed } from '../actors/runtime/hub.js';
import { plainCopy, type DeepReadonly } from '../actors/runtime/readonly.js';
import { Supervisor, type ActorFailure, type PartitionQuarantine } from '../actors/runtime/supervisor.js';
import type { BoxAddress, BoxAskableTo, BoxProtocol } from '../actors/protocol.js';
import type { BoxEvent, Message } from '../actors/runtime/types.js';
import { sessionActor, sessionView as viewOfSession, type SessionCtx, type SessionView } from '../actors/session.js';
import { shredderActor, type ShredderCtx } from '../actors/shredder.js';
import { openI2cBus } from '../drivers/i2c/i2c-bus-adapter.js';
import { createSimulatedLockBank, I2cLockBank, type SimulatedLockBank } from '../drivers/i2c/lock-bank.js';
import type { I2cPort } from '../drivers/i2c/port.js';
import type { ReaderLayout } from '../drivers/device-layout.js';
import { pinPulseActuator } from '../drivers/i2c/card-actuator.js';
import type { GpioPort } from '../drivers/i2c/port.js';
import { ExpanderShredder } from '../drivers/i2c/shredder.js';
import { ExpanderHeadphoneJacks } from '../drivers/i2c/headphones.js';
import { SimulatedHeadphoneContacts } from '../drivers/i2c/sim/headphones.js';
import { SimulatedShredderMechanism } from '../drivers/i2c/sim/shredder.js';
import { SimulatedRoomDoorMechanism } from '../drivers/i2c/sim/room-door.js';
import { ExpanderRoomDoor } from '../drivers/i2c/room-door.js';
import { roomDoorActor } from '../actors/room-door.js';
import { normalizeMobile } from '../actors/domain/phone.js';
import type { WiredDevice } from '../drivers/i2c/sim/world.js';
import type { CardData, CardReaderPort, Hardware, PhysicalWorld } from '../drivers/ports.js';
import { SerialMrzReader } from '../drivers/serial/mrz-reader.js';
import type { SerialOpener } from '../drivers/serial/port.js';
import { openSerialLine } from '../drivers/serial/serialport-adapter.js';
import { SimulatedMrzReaderDevice } from '../drivers/serial/sim/mrz-device.js';
import { SimulatedCardReader, SimulatedHeadphoneJacks, SimulatedLocks, SimulatedShredder, SimulatedSmsGateway } from '../drivers/sim/devices.js';
import { DAY, hoursText, resolveConfig, type BoxConfig, type BoxConfigInput } from './config.js';
import { oldDocumentTag, registryCrypto } from './crypto.js';
import { openPersistence, storageError, type Persistence } from './persistence/keyv-persistence.js';
import type { BoxApi, BoxCounts, CompartmentView, DevicesView, QuarantinedPickup, SessionInputCommand } from './box-api.js';
import { PickupsProjection } from './pickups-projection.js';
import { createSimulation } from './simulation.js';

/**
 * One pickup failing alone is a damaged row or a rare bug; this many at once points at the box's
 * software or storage: a critical alarm, and health fails (see src/health.ts).
 */
export const SYSTEMIC_QUARANTINES = 3;
const MANY_QUARANTINED = 'pickupFailed:many';

/** The simulated devices of a box that runs without hardware, for tests and the harness. */
export interface SimulatedHardware extends Hardware {
  locks: SimulatedLocks;
  reader: SimulatedCardReader;
  shredder: SimulatedShredder;
  sms: SimulatedSmsGateway;
  headphones: SimulatedHeadphoneJacks;
}

export interface CreateBoxOptions {
  clock?: Clock;
  /** real or simulated devices; simulated ones are built when absent */
  hardware?: Hardware;
  /** source of PINs (tests may pin it; production uses the CSPRNG) */
  generatePin?: () => string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** storage opened by the caller instead of `config.storage` (crash tests wrap it) */
  persistence?: Persistence;
}

export type { BoxApi, CompartmentView, DevicesView, SessionInputCommand } from './box-api.js';
export type { SessionView };

export type Box = Awaited<ReturnType<typeof createBox>>;

/**
 * Builds and starts a box: storage, hardware, the supervisor and every actor. Does not listen on
 * any socket; the GraphQL servers and the command line wrap it.
 */
export async function createBox(input: BoxConfigInput = {}, options: CreateBoxOptions = {}) {
  const config: BoxConfig = resolveConfig(input);
  const roomDoorLayout = config.layout?.devices?.roomDoor ?? null;
  // The room is open to everyone during the office hours; the kiosk inside keeps the box's own hours.
  const roomHours = roomDoorLayout ? (roomDoorLayout.hours === 'duesseldorf' ? DUESSELDORF_HOURS : validateOpeningHours(roomDoorLayout.hours)) : null;
  const clock = options.clock ?? new SystemClock();
  const persistence: Persistence = options.persistence ?? (await openPersistence(config.storage, {
      namespace: config.storageNamespace,
      claimNamespace: config.claimNamespace,
      allowNonDurable: config.storageAllowNonDurable,
      ...(options.log ? { log: options.log } : {}),
    }));
  const { hardware, world, i2c, realBuses, cardSlot, shredderMechanism, plugHeadphones, roomDoorMechanism } = options.hardware
    ? {
        hardware: options.hardware,
        world: options.hardware.locks instanceof SimulatedLocks ? options.hardware.locks : null,
        i2c: null,
        realBuses: new Map<number, I2cPort>(),
        cardSlot: options.hardware.reader instanceof SimulatedCardReader ? options.hardware.reader : null,
        shredderMechanism: null,
        roomDoorMechanism: null,
        plugHeadphones: options.hardware.headphones instanceof SimulatedHeadphoneJacks ? options.hardware.headphones.plug.bind(options.hardware.headphones) : null,
      }
    : await buildHardware(config, clock);
  const crypto = registryCrypto(Buffer.from(config.pinKey, 'utf8'), options.generatePin);

  const pickupPolicy: PickupPolicy = {
    windowMs: config.pickupWindowDays * DAY,
    reminderBeforeMs: config.reminderDaysBefore * DAY,
    purgeAfterMs: config.auditPeriodDays * DAY,
    maxFailedAttempts: config.maxFailedAttempts,
    pinResendsPerDay: config.pinResendsPerDay,
    claimMs: 5 * 60_000,
    timeZone: config.timeZone,
    location: config.location,
    hoursText: hoursText(config),
  };
  const archive: PickupArchive = { archive: (p) => persistence.kv.set(`archive:${p.reference}`, p).then(() => undefined, (error: unknown) => Promise.reject(storageError(error))) };
  const behaviors = [
    registryActor(pickupPolicy, crypto, persistence, archive, config.name),
    // One actor per pickup (docs/pickup-actors.md), spawned by the registry as it registers one.
    pickupActor(pickupPolicy, crypto, persistence, archive),
    allocationActor(persistence, config.name),
    authActor({ throttleFree: config.throttle.free, throttleBaseMs: config.throttle.baseMs, throttleMaxMs: config.throttle.maxMs, throttleForgiveMs: config.throttle.forgiveMs }, crypto),
    compartmentActor(
      { doorWindowMs: config.doorWindowMs, doorLeftOpenMs: config.doorLeftOpenMs },
      {
        pulse: (id) => hardware.locks.pulse(id),
        door: async (id) => (await hardware.locks.readDoors()).get(id) ?? 'closed',
      },
    ),
    readerActor(hardware.reader),
    shredderActor(hardware.shredder, (documentNumber) => oldDocumentTag(config.pinKey, documentNumber)),
    // A session that ended with its PIN still being checked waits for a late match as long as the claim it would give back lasts.
    sessionActor({ inactivityMs: config.sessionTimeoutMs, lingerMs: 5_000, lateAnswerMs: pickupPolicy.claimMs, maxPinRejections: 3, timeZone: config.timeZone }),
    kioskActor(config.hours),
    ...(hardware.roomDoor && roomDoorLayout
      ? [roomDoorActor({ hours: roomHours!, openMs: roomDoorLayout.openMs, heldOpenMs: roomDoorLayout.heldOpenMs }, hardware.roomDoor)]
      : []),
    outboxActor(config.sms, hardware.sms),
    alarmsActor,
  ];

  /**
   * The supervisor's alarm sink: an actor that failed for good raises ACTOR_FAILED (through the
   * alarms actor, unless that is the one that failed; health reads the supervisor's list either
   * way), and what the failed actor served is taken out of use. Never the failed actor.
   */
  const onFailure = (f: ActorFailure): void => {
    // A pickup actor that failed for good is one pickup refused on its own, like a quarantined one.
    if (f.kind === 'pickup') return pickupRefused({ partition: f.actor.slice(PICKUP_PREFIX.length), code: f.code, at: f.at }, 'its own actor');
    const text = `${f.actor} keeps failing (${f.code}) and was stopped; the rest of the box keeps working where it can. Once the cause is repaired (see the log), take it back into operation (staff console: "Wieder in Betrieb nehmen" on this alarm; or reviveActor)`;
    if (f.actor !== ALARMS) supervisor.send(ALARMS, raise(`failed:${f.actor}`, 'ACTOR_FAILED', 'critical', f.actor, text), 'supervisor');
    // A compartment that failed for good is given to no pickup.
    if (f.kind === 'compartment') supervisor.send(ALLOCATION, { type: 'compartment.availability', compartmentId: f.actor.slice('compartment/'.length), available: false, code: f.code }, 'supervisor');
    // A shredder that failed for good destroys no card: the reader takes none (and says so when asked).
    if (f.kind === 'shredder') supervisor.send(READER, { type: 'shredder.status', available: false }, 'supervisor');
  };
  /** A pickup's row: the registry's, or its own actor's (docs/pickup-actors.md). */
  const pickupRow = (id: string): Partial<Record<keyof Pickup, unknown>> | undefined =>
    (supervisor.view<RegistryCtx>(REGISTRY)?.ctx.pickups[id] as Pickup | undefined) ?? (supervisor.view<Pickup>(pickupAddress(id))?.ctx as Pickup | undefined);
  /** What staff learn of a quarantined pickup: its reference, its compartment, what to do. */
  const quarantinedPickup = (q: Pick<PartitionQuarantine, 'partition' | 'code' | 'at'>) => {
    const p = pickupRow(q.partition);
    // The row may be the damaged part: only fields of the right type are named.
    const reference = typeof p?.reference === 'string' ? p.reference : q.partition;
    const compartmentId = typeof p?.compartmentId === 'string' ? p.compartmentId : null;
    return { pickupId: q.partition, reference, compartmentId, code: q.code, at: q.at };
  };
  /**
   * A pickup refused on its own (PICKUP_FAILED): its handling kept crashing the registry (a
   * quarantined partition) or its own actor (failed for good). Staff are told which, and what to
   * do; health is degraded, not failed.
   */
  const pickupRefused = (q: Pick<PartitionQuarantine, 'partition' | 'code' | 'at'>, crashed = 'the registry'): void => {
    const { reference, compartmentId } = quarantinedPickup(q);
    // Where its document lies may be the damaged field itself: then staff are not told "nowhere".
    const stored = pickupRow(q.partition)?.compartmentId;
    const whereUnknown = stored !== undefined && stored !== null && typeof stored !== 'string';
    const lift = 'once the cause is repaired (see the log), lift the quarantine (staff console: "Quarantäne aufheben" on the alarm; or liftPickupQuarantine)';
    const todo = compartmentId
      ? `${lift}, retrieve the document from compartment ${compartmentId} and hand it out at the counter; until then ${compartmentId} stays locked and is given to no other pickup`
      : whereUnknown
        ? `its record of the compartment is damaged: find its document in the box (the compartments the console shows occupied), ${lift} and deal with the pickup at the counter`
        : `${lift} and deal with the pickup at the counter`;
    const text = `Pickup ${reference} kept crashing ${crashed} (${q.code}) and is refused on its own (PICKUP_FAILED); every other pickup is served. Staff: ${todo}.`;
    supervisor.send(ALARMS, raise(`pickupFailed:${q.partition}`, 'PICKUP_FAILED', 'warning', reference, text), 'supervisor');
    const count = refusedPickups().length;
    if (count >= SYSTEMIC_QUARANTINES) {
      const many = `${count} pickups kept crashing and are refused on their own: more likely a fault of the box's software or storage than of each pickup's data. Check the log (partition quarantined) and call the box's maintainers; health fails until fewer than ${SYSTEMIC_QUARANTINES} are left.`;
      supervisor.send(ALARMS, raise(MANY_QUARANTINED, 'PICKUP_FAILED', 'critical', REGISTRY, many), 'supervisor');
    }
  };
  const onQuarantine = (q: PartitionQuarantine): void => {
    if (q.actor === REGISTRY) pickupRefused(q);
  };
  /** Pickups refused on their own: quarantined in the registry, or their actor failed for good. */
  const refusedPickups = (): Array<Pick<PartitionQuarantine, 'partition' | 'code' | 'at'>> => [
    ...supervisor.quarantined().filter((q) => q.actor === REGISTRY),
    ...supervisor.failed().flatMap((f) => (f.kind === 'pickup' ? [{ partition: f.actor.slice(PICKUP_PREFIX.length), code: f.code, at: f.at }] : [])),
  ];
  const supervisor = new Supervisor<BoxProtocol>({
    clock,
    persistence,
    behaviors,
    intensity: config.restartIntensity,
    onFailure,
    onQuarantine,
    // A pickup without an actor: registered by an earlier version (in the registry's table), or archived.
    fallback: (to) => (to.startsWith(PICKUP_PREFIX) ? REGISTRY : null),
    log: options.log,
  });

  /** Sends a request to an actor and waits for its own reply (see Supervisor.ask). */
  const ask = <T, A extends BoxAddress>(to: A, message: BoxAskableTo<A> & Message, from = 'api', urgent = false): Promise<T> => supervisor.ask<T, A>(to, message, { from, urgent });
  /** `ask` to the registry, the most asked actor: the reply's type is the caller's word, the message's is checked. */
  const askRegistry = <T>(message: BoxAskableTo<typeof REGISTRY> & Message, from = 'api'): Promise<T> => ask<T, typeof REGISTRY>(REGISTRY, message, from);
  /** `ask`, with the rejection for a missing actor in the words of the caller's domain. */
  const askExisting = <T, A extends BoxAddress>(to: A, message: BoxAskableTo<A> & Message, from: string, notFound: ErrorCode, what: string): Promise<T> =>
    ask<T, A>(to, message, from).catch((error: unknown) => {
      throw isDomainError(error, 'ACTOR_NOT_FOUND') ? new DomainError(notFound, `no ${what}`) : error;
    });
  /**
   * A staff command by reference, which the registry passes on to the pickup's actor: one archived
   * meanwhile (its actor gone before the registry heard) is a pickup not found.
   */
  const askStaff = <T>(message: Extract<BoxAskableTo<typeof REGISTRY>, { reference: string; by: string }> & Message): Promise<T> =>
    askExisting<T, typeof REGISTRY>(REGISTRY, message, 'api', 'PICKUP_NOT_FOUND', `pickup ${message.reference}`);

  // The box's actors that were not stored are spawned once the stored ones are back and before
  // any message is delivered: nothing redelivered or sent on recovery goes to an address not there yet.
  const restored = await supervisor.restore(async () => {
    await supervisor.spawn(REGISTRY, 'registry');
    await supervisor.spawn(AUTH, 'auth');
    await supervisor.spawn(ALARMS, 'alarms');
    await supervisor.spawn(OUTBOX, 'outbox');
    await supervisor.spawn(READER, 'reader');
    await supervisor.spawn(SHREDDER, 'shredder');
    for (const c of config.compartments) await supervisor.spawn(compartmentAddress(c.id), 'compartment', c);
    // After the registry and the compartments: a new allocation actor asks both what it needs to know.
    await supervisor.spawn(ALLOCATION, 'allocation', { compartments: config.compartments });
    for (const k of config.kiosks) await supervisor.spawn(kioskAddress(k), 'kiosk', { id: k });
    if (hardware.roomDoor && roomDoorLayout) await supervisor.spawn(ROOM_DOOR, 'roomDoor');
  });
  const fresh = restored.length === 0;

  // Hardware events enter the actor system as messages.
  await hardware.locks.start();
  const readerStatus = hardware.reader.onStatus((e) => supervisor.send(READER, { type: 'reader.status', available: e.ok, code: e.code === undefined ? null : toErrorCode(e.code, 'READER_UNAVAILABLE') }, 'hw/reader'));
  await hardware.reader.start();
  // The panels learn their jacks' state as found at start (the first poll settles it silently).
  for (const k of config.kiosks) if (hardware.headphones?.plugged(k)) supervisor.send(kioskAddress(k), { type: 'headphones.changed', plugged: true }, 'hw/headphones');
  const roomDoorChanges = hardware.roomDoor?.onDoorChange((door) => supervisor.send(ROOM_DOOR, { type: 'door.changed', door }, 'hw/roomDoor'));
  const headphoneChanges = hardware.headphones?.onChange((e) => {
    if (supervisor.has(kioskAddress(e.kiosk))) supervisor.send(kioskAddress(e.kiosk), { type: 'headphones.changed', plugged: e.plugged }, 'hw/headphones');
  });
  const unsubscribe = [
    ...(headphoneChanges ? [headphoneChanges] : []),
    ...(roomDoorChanges ? [roomDoorChanges] : []),
    hardware.locks.onDoorChange((e) => supervisor.send(compartmentAddress(e.compartment), { type: 'door.changed', door: e.door }, 'hw/locks')),
    hardware.locks.onBoardStatus((e) => {
      const from = `hw/board/${e.board}`;
      const key = `board:${e.board}`;
      const code = toErrorCode(e.code, 'BOARD_FAULT');
      supervisor.send(
        ALARMS,
        e.ok ? clear(key) : raise(key, code, 'critical', e.board, `Lock board ${e.board} failed (${code}): compartments ${e.compartments.join(', ')} are out of service`),
        from,
      );
      for (const c of e.compartments) supervisor.send(compartmentAddress(c), { type: 'board.status', ok: e.ok, ...(e.ok ? {} : { code }) }, from);
    }),
    hardware.reader.onCardInserted(() => supervisor.send(READER, { type: 'card.inserted' }, 'hw/reader')),
    readerStatus,
  ];

  // The pickups as readers see them: the rows as recovered (each pickup's actor's, and those an
  // earlier version registered, in the registry's table), then only what they publish after each
  // commit. Read and subscribed in one step, so no commit falls between the two.
  const pickups = PickupsProjection.of([
    ...(Object.values(supervisor.view<RegistryCtx>(REGISTRY)!.ctx.pickups) as Pickup[]),
    ...supervisor.viewsOf<Pickup>('pickup').map((v) => v.ctx as Pickup),
  ]);
  /**
   * The box's public event stream: the supervisor's, whose one listener is this router. Row events
   * (personal data) go to the projection only and never reach a public listener, not even to be
   * dropped; every other event goes on, in order, after the rows it describes are applied.
   */
  const publicEvents = new Hub<BoxEvent>();
  unsubscribe.push(supervisor.events.listen((e) => (e.type === PICKUP_ROW ? pickups.apply(e) : publicEvents.publish(e))));
  /** Only the router publishes to it: readers get `listen` and `iterate`. */
  const events: Pick<Hub<BoxEvent>, 'listen' | 'iterate'> = publicEvents;

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
    return v ? viewOfSession(v.ctx) : undefined;
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
    /** the I2C buses the lock boards are on (real or simulated), by bus number; empty without boards */
    i2cPorts: (i2c?.buses ?? realBuses) as ReadonlyMap<number, I2cPort>,
    /** the slot of a simulated card reader (device or byte level), where a test pushes a card; null on real hardware */
    cardSlot,
    /** the simulated shredder mechanism on expander pins (i2c-sim with a shredder in the layout) */
    shredderMechanism,
    /** the after-hours room's simulated door (i2c-sim with a room door in the layout): a person pushes, forces, closes it */
    roomDoorMechanism,
    /** true when this start found no earlier state */
    fresh,
    /** the harness's control of simulated devices and the simulated clock (refuses on real ones) */
    simulation: createSimulation({ supervisor, hardware, world, i2c, cardSlot, shredderMechanism, plugHeadphones, layout: config.layout, now: () => clock.now() }),
    events,
    trace: supervisor.trace,
    /** every change of a compartment's view (state, door, lock, fault, service), as it commits */
    compartmentChanges,

    // --- integration ------------------------------------------------------------------------
    registerPickup: (pickup: RegisterInput, by = 'integration') =>
      askRegistry<{ id: string; reference: string; status: string }>({ type: 'pickup.register', input: pickup }, `api/${by}`),
    cancelPickup: (reference: string, by: string) => askStaff<{ reference: string; status: string; compartmentId: string | null }>({ type: 'pickup.cancel', reference, by }),

    // --- staff ------------------------------------------------------------------------------
    loadPickup: (reference: string, by: string) => askStaff<{ reference: string; status: string; compartmentId: string }>({ type: 'pickup.load', reference, by }),
    retrievePickup: (reference: string, by: string) => askStaff<{ reference: string; status: string; compartmentId: string }>({ type: 'pickup.retrieve', reference, by }),
    reissuePin: (reference: string, by: string) => askStaff<{ reference: string; status: string }>({ type: 'pickup.reissuePin', reference, by }),
    /**
     * After repair (a fixed version, a fixed row): the pickup is taken back into operation, audited;
     * its held timers run. If its handling still crashes, it is quarantined again past the intensity.
     */
    liftPickupQuarantine: async (reference: string, by: string): Promise<{ reference: string; status: string }> => {
      const ref = reference.trim();
      // (A pickup actor the registry does not know yet: found among the pickups refused on their own.)
      const id = supervisor.view<RegistryCtx>(REGISTRY)?.ctx.byReference[ref] ?? refusedPickups().map(quarantinedPickup).find((q) => q.reference === ref)?.pickupId;
      if (!id) throw new DomainError('PICKUP_NOT_FOUND', `no pickup ${ref}`);
      const audit = { action: 'pickup.quarantineLifted', actor: by, subject: ref };
      // Its own actor failed for good (docs/pickup-actors.md): revived; else its partition in the registry is lifted.
      const own = pickupAddress(id);
      const revived = supervisor.failed().some((f) => f.actor === own) && (await supervisor.revive(own, audit));
      if (!revived && !(await supervisor.lift(REGISTRY, id, audit))) {
        throw new DomainError('PICKUP_WRONG_STATE', `pickup ${ref} is not refused with PICKUP_FAILED: there is nothing to lift`);
      }
      supervisor.send(ALARMS, clear(`pickupFailed:${id}`), 'supervisor');
      if (refusedPickups().length < SYSTEMIC_QUARANTINES) supervisor.send(ALARMS, clear(MANY_QUARANTINED), 'supervisor');
      return { reference: ref, status: box.pickup(ref)?.status ?? 'UNKNOWN' };
    },
    /**
     * After repair (a fixed version, a replaced device): an actor that failed for good (ACTOR_FAILED)
     * is taken back into operation, audited; its kept timers run and it reconciles as after a
     * crash. If it keeps failing, it is failed again past the restart intensity.
     */
    reviveActor: async (address: string, by: string): Promise<{ address: string; kind: string }> => {
      const failure = supervisor.failed().find((f) => f.actor === address);
      if (!failure) {
        if (!supervisor.has(address)) throw new DomainError('ACTOR_NOT_FOUND', `no actor ${address}`);
        throw new DomainError('ACTOR_NOT_FAILED', `${address} has not failed: there is nothing to revive`);
      }
      if (!(await supervisor.revive(failure.actor, { action: 'actor.revived', actor: by, subject: failure.actor, detail: { code: failure.code } }))) {
        throw new DomainError('ACTOR_NOT_FAILED', `${address} has not failed: there is nothing to revive`);
      }
      supervisor.send(ALARMS, clear(`failed:${failure.actor}`), 'supervisor');
      // A pickup's actor is a pickup refused on its own: its alarms are those of a quarantine.
      if (failure.kind === 'pickup') {
        supervisor.send(ALARMS, clear(`pickupFailed:${failure.actor.slice(PICKUP_PREFIX.length)}`), 'supervisor');
        if (refusedPickups().length < SYSTEMIC_QUARANTINES) supervisor.send(ALARMS, clear(MANY_QUARANTINED), 'supervisor');
      }
      // What it served is back in use once it says so itself (a shredder announces on `restarted`).
      if (failure.kind === 'compartment') supervisor.send(failure.actor as `compartment/${string}`, { type: 'availability.report' }, 'supervisor');
      return { address: failure.actor, kind: failure.kind };
    },
    /** Takes a compartment out of service or back; answered once the compartment committed it. */
    setCompartmentService: async (compartmentId: string, inService: boolean, by: string, reason = ''): Promise<{ compartmentId: string; inService: boolean }> => {
      await askExisting(compartmentAddress(compartmentId), { type: 'service.set', inService, by, reason }, `api/${by}`, 'COMPARTMENT_NOT_FOUND', `compartment ${compartmentId}`);
      return { compartmentId, inService };
    },
    clearCompartmentFault: (compartmentId: string, by: string): Promise<void> =>
      askExisting(compartmentAddress(compartmentId), { type: 'fault.clear', by }, `api/${by}`, 'COMPARTMENT_NOT_FOUND', `compartment ${compartmentId}`),
    /** Staff cleared the shredder (and emptied its bin: on simulated hardware the bin empties here, as staff's hands would). */
    clearShredder: async (by: string, binEmptied: boolean): Promise<void> => {
      if (binEmptied && (hardware.shredder instanceof SimulatedShredder || shredderMechanism)) box.simulation.emptyShredderBin();
      shredderMechanism?.clearJam();
      await ask<null, typeof SHREDDER>(SHREDDER, { type: 'clear', by, binEmptied }, `api/${by}`);
    },
    acknowledgeAlarm: (id: string, by: string) => ask<Alarm, typeof ALARMS>(ALARMS, { type: 'alarm.ack', id, by }),

    // --- kiosk ------------------------------------------------------------------------------
    /**
     * The after-hours room's outside panel: number and PIN of a READY pickup unlock the room door
     * for its `openMs`; the PIN stays valid for the pickup inside, the attempt counts toward the
     * same limits. During the opening hours the door is open anyway and nothing is checked.
     */
    enterRoom: async (kioskId: string, phone: string, pin: string): Promise<{ opened: true; byHours: boolean }> => {
      if (!roomDoorLayout || !hardware.roomDoor || kioskId !== roomDoorLayout.panel) {
        throw new DomainError('NOT_A_DOOR_PANEL', `panel ${kioskId} is not the outside panel of an after-hours room`);
      }
      if (isOpen(roomHours!, clock.now())) return { opened: true, byHours: true };
      const number = normalizeMobile(phone);
      if (!/^\d{6}$/.test(pin)) throw new DomainError('INVALID_PIN_FORMAT', 'The PIN is six digits');
      // A person waits at the room's outside keypad: served as a panel is, ahead of bulk work.
      await ask(AUTH, { type: 'auth.doorPin', kioskId, phone: number, pin }, `api/kiosk/${kioskId}`, true);
      return { opened: true, byHours: false };
    },
    startSession: (kioskId = config.kiosks[0]!) => {
      if (!supervisor.has(kioskAddress(kioskId))) return Promise.reject(new DomainError('SESSION_NOT_FOUND', `no kiosk ${kioskId}`));
      return ask<{ sessionId: string }, `kiosk/${string}`>(kioskAddress(kioskId), { type: 'session.start' }, `api/kiosk/${kioskId}`);
    },
    /**
     * Passes one input of the panel to its session and resolves with the session's view once the
     * session has dealt with it (after its check, for a PIN, card or birth date). The session
     * itself refuses an input it does not take at its step (SESSION_WRONG_STEP).
     */
    sessionInput(sessionId: string, command: SessionInputCommand): Promise<SessionView> {
      const kiosk = supervisor.view<SessionCtx>(sessionAddress(sessionId))?.ctx.kioskId ?? '?';
      return askExisting<SessionView, `session/${string}`>(sessionAddress(sessionId), sessionInputMessage(command), `api/kiosk/${kiosk}`, 'SESSION_NOT_FOUND', `running session ${sessionId}`);
    },

    // --- reads ------------------------------------------------------------------------------
    /** A live pickup (registered, in the box, or ended within the audit period). */
    pickup: (reference: string): DeepReadonly<PickupRow> | undefined => {
      const p = pickups.byReference(reference);
      return p && plainCopy<PickupRow>(p);
    },
    /** A live pickup, or an ended one from the archive (without personal data). */
    pickupOrArchived: async (reference: string): Promise<DeepReadonly<PickupRow> | undefined> =>
      box.pickup(reference) ?? (await persistence.kv.get<Pickup>(`archive:${reference.trim()}`)),
    /** Every live pickup (or those `keep` keeps, asked before anything is copied), copied: changing one changes nothing in the box. */
    pickups: (keep?: (p: DeepReadonly<PickupRow>) => boolean): readonly DeepReadonly<PickupRow>[] => {
      const out: DeepReadonly<PickupRow>[] = [];
      for (const p of pickups.all()) if (!keep || keep(p)) out.push(plainCopy<PickupRow>(p));
      return out;
    },
    compartment: compartmentView,
    compartments: (): CompartmentView[] => config.compartments.map((c) => compartmentView(c.id)!),
    session: sessionView,
    /** Every committed change of one session, as the panel sees it. */
    sessionEvents: (sessionId: string): AsyncIterableIterator<SessionView> =>
      pushed<SessionView>((push) =>
        supervisor.changes.listen(({ address }) => {
          if (address !== sessionAddress(sessionId)) return;
          const view = sessionView(sessionId);
          if (view) push(view);
        }),
      ),
    devices: (): DevicesView => {
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
    alarms: (openOnly = false): readonly DeepReadonly<Alarm>[] => {
      const all = supervisor.view<AlarmsCtx>(ALARMS)!.ctx.alarms;
      return plainCopy<Alarm[]>(openOnly ? all.filter(alarmIsOpen) : all);
    },
    outbox: (): DeepReadonly<OutboxCtx> => plainCopy<OutboxCtx>(supervisor.view<OutboxCtx>(OUTBOX)!.ctx),
    /** Where the SMS with this id is, read in place: the outbox (texts, 60 days of ids) is not copied. */
    smsState: (id: string): 'pending' | 'delivered' | null => {
      const outbox = supervisor.view<OutboxCtx>(OUTBOX)!.ctx;
      if (outbox.delivered?.[id] !== undefined) return 'delivered';
      return outbox.pending[id] ? 'pending' : null;
    },
    /** Counts for monitoring, read in place: no pickup and no SMS text is copied. */
    counts: (): BoxCounts => {
      const pickupsByStatus = pickups.byStatus();
      const outbox = supervisor.view<OutboxCtx>(OUTBOX)!.ctx;
      return { pickupsByStatus, sms: { pending: Object.keys(outbox.pending).length, sent: outbox.sentCount, failed: outbox.failedCount } };
    },
    openNow: () => isOpen(config.hours, clock.now()),
    nextOpening: () => nextOpening(config.hours, clock.now()),
    audit: (fromSeq = 1, limit = 1_000) => persistence.readAudit(fromSeq, limit),
    /** The audit chain's last sequence number and hash (the anchor to keep off the box). */
    auditHead: () => persistence.auditHead(),

    /** Everything a monitor sees at once: the box, its compartments, devices, live pickups, open alarms, running sessions. */
    snapshot() {
      return {
        box: { name: config.name, openNow: isOpen(config.hours, clock.now()), nextOpening: nextOpening(config.hours, clock.now()) },
        compartments: config.compartments.map((c) => compartmentView(c.id)!),
        devices: box.devices(),
        pickups: box.pickups().map(({ phone: _p, birthDate: _b, oldDocumentNumber: _o, ...rest }) => rest),
        alarms: box.alarms(true),
        sessions: supervisor.viewsOf<SessionCtx>('session').map((v) => sessionView(v.ctx.id)!),
      };
    },

    // --- harness ----------------------------------------------------------------------------
    /**
     * Sends a message to an actor as the test harness does, after checking it against the
     * actor's message schema (ACTOR_NOT_FOUND, INVALID_MESSAGE): a malformed message is refused
     * instead of crashing the actor. Returns the message id. (Alias: `send`.)
     */
    inject: (to: string, message: Message, from = 'harness') => {
      supervisor.check(to, message);
      return supervisor.post(to, message, from);
    },
    send: (to: string, message: Message, from = 'harness') => box.inject(to, message, from),
    /** Tests only: waits until the actors have nothing left to do but wait for time. Requests wait for their own answers. */
    idle: () => supervisor.settle(),
    /** Moves a simulated clock forward, letting every timer's work finish in order. */
    advance: (ms: number) => supervisor.advanceClock(ms),
    /** Actors that failed for good: health fails while there is one. */
    // (A pickup's actor failed for good is a pickup refused on its own: quarantinedPickups.)
    failures: (): readonly Readonly<ActorFailure>[] => supervisor.failed().filter((f) => f.kind !== 'pickup'),
    /** Pickups refused on their own (PICKUP_FAILED) after their handling kept crashing: health is degraded while there is one. */
    quarantinedPickups: (): QuarantinedPickup[] => refusedPickups().map(quarantinedPickup),
    /** False while commits fail (disk full, Redis down): new work is refused with STORAGE_UNAVAILABLE. */
    storageHealthy: (): boolean => supervisor.storageHealthy(),
    onEvent: (fn: (e: BoxEvent) => void) => events.listen(fn),

    async close(): Promise<void> {
      for (const u of unsubscribe) u();
      // Shutdown drains the work in hand before storage closes.
      await supervisor.settle().catch(() => {});
      await supervisor.close();
      await hardware.locks.close();
      await hardware.reader.close();
      await persistence.close();
    },
  };
  // The schema sees the box only through BoxApi: the compiler checks the facade keeps its word.
  const api: BoxApi = box;
  void api;
  return box;
}

/** The session's message for one input of the panel (the panel's command named as the session names it). */
function sessionInputMessage(command: SessionInputCommand): BoxAskableTo<`session/${string}`> {
  switch (command.type) {
    case 'phone':
      return { type: 'input.phone', phone: command.phone };
    case 'pin':
      return { type: 'input.pin', pin: command.pin };
    case 'factor':
      return { type: 'input.factor', factor: command.factor };
    case 'birthDate':
      return { type: 'input.birthDate', birthDate: command.birthDate };
    case 'cancel':
      return { type: 'input.cancel' };
    case 'extend':
      return { type: 'input.extend' };
    case 'lostPin':
      return { type: 'input.lostPin', phone: command.phone };
  }
}

/** Where a test or the harness pushes a card into a simulated reader. */
export interface CardSlot {
  insert(card: CardData): boolean;
}

interface BuiltHardware {
  hardware: Hardware;
  world: PhysicalWorld | null;
  i2c: SimulatedLockBank | null;
  cardSlot: CardSlot | null;
  /** the shredder's simulated mechanism behind expander pins, when the layout names one on i2c-sim */
  shredderMechanism: SimulatedShredderMechanism | null;
  /** a person plugging headphones into a panel's simulated jack; null on real hardware */
  plugHeadphones: ((kiosk: string, plugged: boolean) => void) | null;
  /** the real I2C buses the boards are on, by number; empty on simulations */
  realBuses: Map<number, I2cPort>;
  /** the after-hours room's door behind expander pins, on i2c-sim with a room door in the layout */
  roomDoorMechanism: SimulatedRoomDoorMechanism | null;
}

/** Builds the devices the configuration asks for. */
async function buildHardware(config: BoxConfig, clock: Clock): Promise<BuiltHardware> {
  const devices = simulatedHardware(config, clock);
  const none = new Map<number, I2cPort>();
  const plugSimulated = devices.headphones.plug.bind(devices.headphones);
  if (config.hardware === 'simulated' || !config.layout) return { hardware: devices, world: devices.locks, i2c: null, realBuses: none, cardSlot: devices.reader, shredderMechanism: null, plugHeadphones: plugSimulated, roomDoorMechanism: null };
  const readerLayout = config.layout.devices?.reader ?? null;
  const shredderLayout = config.layout.devices?.shredder ?? null;
  const doorLayout = config.layout.devices?.roomDoor ?? null;
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
    // Devices named in the layout run their real drivers on the register/byte-level simulation.
    const gpio = bank.locks.gpio;
    const mechanism = shredderLayout ? new SimulatedShredderMechanism(shredderLayout, w, clock) : null;
    const feed = mechanism?.feed ?? devices.shredder.feed;
    const shredder = shredderLayout ? new ExpanderShredder({ layout: shredderLayout, gpio, clock }) : devices.shredder;
    let reader: CardReaderPort = devices.reader;
    let cardSlot: CardSlot = devices.reader;
    if (readerLayout) {
      const device = new SimulatedMrzReaderDevice(readerLayout.protocol, (card) => feed.push(card));
      if (readerLayout.gpio) w.wireDevice(slotMechanism(readerLayout.gpio, device));
      reader = serialReader(readerLayout, device.open, clock, gpio);
      cardSlot = device;
    } else if (mechanism) {
      devices.reader.feedInto(mechanism.feed);
    }
    const jacks = config.layout.devices?.headphones ?? [];
    const contacts = jacks.length ? new SimulatedHeadphoneContacts(jacks, w) : null;
    const headphones = contacts ? new ExpanderHeadphoneJacks(gpio, jacks) : devices.headphones;
    const plugHeadphones = contacts ? (kiosk: string, plugged: boolean) => contacts.plug(kiosk, plugged) : devices.headphones.plug.bind(devices.headphones);
    const roomDoorMechanism = doorLayout ? new SimulatedRoomDoorMechanism(doorLayout, w, () => clock.now()) : null;
    const roomDoor = doorLayout ? new ExpanderRoomDoor(doorLayout, gpio) : undefined;
    return { hardware: { ...devices, locks: bank.locks, reader, shredder, headphones, roomDoor }, world, i2c: bank, realBuses: none, cardSlot, shredderMechanism: mechanism, plugHeadphones, roomDoorMechanism };
  }
  // Real boards; the SMS gateway stays simulated here (the HTTP gateway is configured elsewhere).
  const buses = new Map<number, I2cPort>();
  for (const board of config.layout.boards) if (!buses.has(board.bus)) buses.set(board.bus, await openI2cBus(board.bus));
  const locks = new I2cLockBank({ layout: config.layout, buses, clock, pollMs: config.i2c.pollMs });
  const reader = readerLayout ? serialReader(readerLayout, () => openSerialLine(readerLayout.serial), clock, locks.gpio) : devices.reader;
  const shredder = shredderLayout ? new ExpanderShredder({ layout: shredderLayout, gpio: locks.gpio, clock }) : devices.shredder;
  const jacks = config.layout.devices?.headphones ?? [];
  const headphones = jacks.length ? new ExpanderHeadphoneJacks(locks.gpio, jacks) : undefined;
  const roomDoor = doorLayout ? new ExpanderRoomDoor(doorLayout, locks.gpio) : undefined;
  return { hardware: { ...devices, locks, reader, shredder, headphones, roomDoor }, world: null, i2c: null, realBuses: buses, cardSlot: null, shredderMechanism: null, plugHeadphones: null, roomDoorMechanism: null };
}

function serialReader(layout: ReaderLayout, open: SerialOpener, clock: Clock, gpio: GpioPort): SerialMrzReader {
  const actuator = layout.gpio ? pinPulseActuator(gpio, clock, layout.gpio) : undefined;
  return new SerialMrzReader({ open, clock, protocol: layout.protocol, readTimeoutMs: layout.readTimeoutMs, reconnectMs: layout.reconnectMs, actuator });
}

/** The simulated reader's slot mechanism on expander outputs: a pulse on a pin moves the card. */
function slotMechanism(pins: NonNullable<ReaderLayout['gpio']>, device: SimulatedMrzReaderDevice): WiredDevice {
  const energised = new Set<string>();
  return {
    drivenLow: () => false,
    drivesChanged(board, active) {
      for (const [action, pin] of [['eject', pins.eject], ['retain', pins.retain]] as const) {
        if (pin.board !== board) continue;
        const key = `${action}`;
        const on = active(pin.pin);
        if (on && !energised.has(key)) device.actuate(action);
        if (on) energised.add(key);
        else energised.delete(key);
      }
    },
  };
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
    headphones: new SimulatedHeadphoneJacks(),
  };
}
