import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { DomainError } from '../../actors/domain/errors.js';
import { validateRegistration, type RegisterInput } from '../../actors/domain/registration.js';
import { withClientErrors, type ErrorLogger } from '../../schema/errors.js';
import type { AlarmEventPayload, BoxStatus, Central, PickupEventPayload } from './central.js';
import type { CentralAlarm, CommandRecord, FleetPickup } from './projection.js';
import { isBoxId, type FleetCommandType } from './protocol.js';

/** The roles of the central API: integrations register and query; monitors watch. */
export type CentralRole = 'integration' | 'monitor';

export interface CentralContext {
  central: Central;
  role: CentralRole | null;
}

/**
 * The central service's own small schema (not the box's): pickups and boxes across the fleet,
 * commands queued for a chosen box, and live pickup events and alarms of every box.
 */
export function buildCentralSchema(log?: ErrorLogger): GraphQLSchema {
  const builder = new SchemaBuilder<{
    Context: CentralContext;
    AuthScopes: { integration: boolean; monitor: boolean };
    DefaultFieldNullability: false;
    Scalars: { DateTime: { Input: number; Output: number } };
  }>({
    plugins: [ScopeAuthPlugin],
    defaultFieldNullability: false,
    scopeAuth: {
      authorizeOnSubscribe: true,
      unauthorizedError: (_parent, context) =>
        context.role === null ? new DomainError('UNAUTHENTICATED', 'A valid access token is required') : new DomainError('FORBIDDEN', `The role ${context.role} may not do this`),
      authScopes: (context) => ({ integration: context.role === 'integration', monitor: context.role === 'monitor' }),
    },
  });
  const READ = { $any: { integration: true, monitor: true } } as const;

  builder.scalarType('DateTime', {
    description: 'A point in time, as an ISO 8601 string in UTC.',
    serialize: (ms) => new Date(ms).toISOString(),
    parseValue: (value) => {
      const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(ms)) throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
      return ms;
    },
  });

  const Pickup = builder.objectRef<FleetPickup>('FleetPickup').implement({
    description: 'A pickup as the centre knows it: no personal data, only what the registry holds.',
    fields: (t) => ({
      reference: t.exposeString('reference'),
      boxId: t.exposeString('boxId'),
      status: t.exposeString('status'),
      compartmentId: t.exposeString('compartmentId', { nullable: true }),
      change: t.exposeString('change'),
      updatedAt: t.field({ type: 'DateTime', resolve: (p) => p.updatedAt }),
    }),
  });

  const BoxAlarm = builder.objectRef<{ id: string; code: string; severity: string; subject: string; text: string; raisedAt: number }>('FleetBoxAlarm').implement({
    fields: (t) => ({
      id: t.exposeString('id'),
      code: t.exposeString('code'),
      severity: t.exposeString('severity'),
      subject: t.exposeString('subject'),
      text: t.exposeString('text'),
      raisedAt: t.field({ type: 'DateTime', resolve: (a) => a.raisedAt }),
    }),
  });

  const Box = builder.objectRef<BoxStatus>('FleetBox').implement({
    description: "One box of the fleet as the centre sees it: how far its events have arrived, when it was last heard from, its health.",
    fields: (t) => ({
      id: t.exposeString('id'),
      lastSeq: t.exposeInt('lastSeq', { description: 'every event of the box up to this sequence number has reached the centre' }),
      highestSeq: t.exposeInt('highestSeq', { description: 'the highest sequence number seen; above lastSeq while events are missing' }),
      backlog: t.exposeInt('backlog', { description: 'entries in the box stream the centre has not finished (undelivered + pending)' }),
      lastContact: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.lastContact }),
      lastEventAt: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.lastEventAt }),
      silent: t.exposeBoolean('silent'),
      health: t.string({ nullable: true, description: 'the devices of the box as JSON, from its last health event', resolve: (b) => (b.health ? JSON.stringify(b.health) : null) }),
      auditHead: t.string({ nullable: true, description: '<seq>:<hash> of the box audit chain, an anchor kept off the box', resolve: (b) => (b.auditHead ? `${b.auditHead.seq}:${b.auditHead.hash}` : null) }),
      openAlarms: t.field({ type: [BoxAlarm], resolve: (b) => Object.entries(b.openAlarms).map(([id, a]) => ({ id, ...a })) }),
    }),
  });

  const Alarm = builder.objectRef<CentralAlarm>('CentralAlarm').implement({
    fields: (t) => ({
      key: t.exposeString('key'),
      code: t.exposeString('code'),
      subject: t.exposeString('subject'),
      text: t.exposeString('text'),
      raisedAt: t.field({ type: 'DateTime', resolve: (a) => a.raisedAt }),
      clearedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.clearedAt }),
    }),
  });

  const CommandState = builder.enumType('CommandState', { values: ['DONE', 'FAILED', 'PENDING', 'EXPIRED'] as const });
  const Command = builder.objectRef<CommandRecord>('FleetCommand').implement({
    description: 'A command queued for a box. PENDING: not answered yet (the box may be offline); it runs once when the box reads it, or EXPIRED after expiresAt.',
    fields: (t) => ({
      id: t.exposeString('id'),
      boxId: t.exposeString('boxId'),
      type: t.exposeString('type'),
      reference: t.exposeString('reference', { nullable: true }),
      state: t.field({ type: CommandState, resolve: (c, _a, ctx) => ctx.central.commandState(c) }),
      code: t.string({ nullable: true, resolve: (c) => (c.outcome && !c.outcome.ok ? c.outcome.code : null) }),
      message: t.string({ nullable: true, resolve: (c) => (c.outcome && !c.outcome.ok ? c.outcome.message : null) }),
      status: t.string({ nullable: true, description: 'the pickup status the box answered with', resolve: (c) => (c.outcome?.ok ? ((c.outcome.value.status as string | undefined) ?? null) : null) }),
      issuedAt: t.field({ type: 'DateTime', resolve: (c) => c.issuedAt }),
      expiresAt: t.field({ type: 'DateTime', resolve: (c) => c.expiresAt }),
    }),
  });

  const PickupEvent = builder.objectRef<PickupEventPayload>('FleetPickupEvent').implement({
    fields: (t) => ({
      eventId: t.exposeString('eventId', { description: 'stable: <boxId>:<seq>' }),
      boxId: t.exposeString('boxId'),
      seq: t.exposeInt('seq'),
      reference: t.exposeString('reference'),
      status: t.exposeString('status'),
      compartmentId: t.exposeString('compartmentId', { nullable: true }),
      change: t.exposeString('change'),
      at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    }),
  });
  const AlarmEvent = builder.objectRef<AlarmEventPayload>('FleetAlarmEvent').implement({
    fields: (t) => ({
      id: t.exposeString('id'),
      boxId: t.exposeString('boxId', { description: '`central` for alarms of the centre itself (BOX_SILENT, WEBHOOK_UNDELIVERABLE)' }),
      code: t.exposeString('code'),
      severity: t.exposeString('severity'),
      subject: t.exposeString('subject'),
      text: t.exposeString('text'),
      state: t.exposeString('state'),
      at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    }),
  });

  const RegisterInputRef = builder.inputType('FleetRegisterPickupInput', {
    fields: (t) => ({
      reference: t.string({ required: true }),
      documentKind: t.string({ required: true }),
      phone: t.string({ required: true }),
      birthDate: t.string({ required: true }),
      oldDocumentNumber: t.string({ required: false }),
      accessible: t.boolean({ required: false }),
      documents: t.int({ required: false }),
    }),
  });

  const checkBox = (boxId: string) => {
    if (!isBoxId(boxId)) throw new DomainError('BOX_UNKNOWN', 'a box id is 1–64 letters, digits, "-" or "_"');
  };
  const waitOf = (ms: number | null | undefined) => Math.max(0, Math.min(ms ?? 5_000, 30_000));
  const queue = async (ctx: CentralContext, boxId: string, type: FleetCommandType, payload: Record<string, unknown>, waitMs: number | null | undefined) => {
    checkBox(boxId);
    const record = await ctx.central.sendCommand(boxId, type, { ...payload, by: 'integration' });
    return ctx.central.awaitOutcome(record.id, waitOf(waitMs));
  };

  builder.queryType({
    fields: (t) => ({
      pickups: t.field({
        type: [Pickup],
        authScopes: READ,
        description: 'Pickups across the fleet, filtered by reference, status and box (at most `first`, by reference).',
        args: { reference: t.arg.string(), status: t.arg.string(), boxId: t.arg.string(), first: t.arg.int({ defaultValue: 100 }) },
        resolve: async (_r, a, ctx) => {
          const first = Math.max(0, Math.min(a.first ?? 100, 1_000));
          return (await ctx.central.pickups({ reference: a.reference ?? undefined, status: a.status ?? undefined, boxId: a.boxId ?? undefined })).slice(0, first);
        },
      }),
      pickup: t.field({ type: Pickup, nullable: true, authScopes: READ, args: { reference: t.arg.string({ required: true }) }, resolve: async (_r, a, ctx) => (await ctx.central.pickup(a.reference.trim())) ?? null }),
      boxes: t.field({ type: [Box], authScopes: READ, resolve: (_r, _a, ctx) => ctx.central.boxes() }),
      centralAlarms: t.field({ type: [Alarm], authScopes: { monitor: true }, args: { openOnly: t.arg.boolean({ defaultValue: true }) }, resolve: (_r, a, ctx) => ctx.central.alarms(a.openOnly ?? true) }),
      command: t.field({
        type: Command,
        nullable: true,
        authScopes: { integration: true },
        args: { id: t.arg.string({ required: true }), waitMs: t.arg.int({ defaultValue: 0 }) },
        resolve: async (_r, a, ctx) => ((await ctx.central.command(a.id)) ? ctx.central.awaitOutcome(a.id, waitOf(a.waitMs)) : null),
      }),
    }),
  });

  builder.mutationType({
    fields: (t) => ({
      registerPickup: t.field({
        type: Command,
        authScopes: { integration: true },
        description: 'Queues a registration for the chosen box and waits up to waitMs (≤ 30 s) for its outcome; PENDING means the box has not answered yet.',
        args: { boxId: t.arg.string({ required: true }), input: t.arg({ type: RegisterInputRef, required: true }), waitMs: t.arg.int({ defaultValue: 5_000 }) },
        resolve: (_r, a, ctx) => {
          const input: RegisterInput = { ...a.input, oldDocumentNumber: a.input.oldDocumentNumber ?? null, accessible: a.input.accessible ?? false, documents: a.input.documents ?? 1 };
          // Checked here too, so that bad input is refused at once and never travels to a box.
          validateRegistration(input, Date.now(), 'Europe/Berlin');
          return queue(ctx, a.boxId, 'register', { input }, a.waitMs);
        },
      }),
      cancelPickup: t.field({
        type: Command,
        authScopes: { integration: true },
        args: { boxId: t.arg.string({ required: true }), reference: t.arg.string({ required: true }), waitMs: t.arg.int({ defaultValue: 5_000 }) },
        resolve: (_r, a, ctx) => queue(ctx, a.boxId, 'cancel', { reference: a.reference.trim() }, a.waitMs),
      }),
      reissuePin: t.field({
        type: Command,
        authScopes: { integration: true },
        args: { boxId: t.arg.string({ required: true }), reference: t.arg.string({ required: true }), waitMs: t.arg.int({ defaultValue: 5_000 }) },
        resolve: (_r, a, ctx) => queue(ctx, a.boxId, 'reissuePin', { reference: a.reference.trim() }, a.waitMs),
      }),
      setCompartmentService: t.field({
        type: Command,
        authScopes: { integration: true },
        args: { boxId: t.arg.string({ required: true }), compartmentId: t.arg.string({ required: true }), inService: t.arg.boolean({ required: true }), reason: t.arg.string(), waitMs: t.arg.int({ defaultValue: 5_000 }) },
        resolve: (_r, a, ctx) => queue(ctx, a.boxId, 'service', { compartmentId: a.compartmentId, inService: a.inService, reason: a.reason ?? '' }, a.waitMs),
      }),
    }),
  });

  builder.subscriptionType({
    fields: (t) => ({
      pickupEvents: t.field({
        type: PickupEvent,
        authScopes: READ,
        description: 'Pickup events of every box (or of one box, or one reference), from every central process.',
        args: { boxId: t.arg.string(), reference: t.arg.string() },
        subscribe: (_r, a, ctx) => filtered(ctx.central.pubsub.subscribe('fleet:pickup'), (e) => (!a.boxId || e.boxId === a.boxId) && (!a.reference || e.reference === a.reference)),
        resolve: (e) => e,
      }),
      alarms: t.field({
        type: AlarmEvent,
        authScopes: { monitor: true },
        description: 'Alarms raised, cleared or acknowledged on any box, and the centre’s own alarms.',
        args: { boxId: t.arg.string() },
        subscribe: (_r, a, ctx) => filtered(ctx.central.pubsub.subscribe('fleet:alarm'), (e) => !a.boxId || e.boxId === a.boxId),
        resolve: (e) => e,
      }),
    }),
  });

  return withClientErrors(builder.toSchema(), log);
}

async function* filtered<T>(source: AsyncIterable<T>, keep: (value: T) => boolean): AsyncGenerator<T> {
  for await (const value of source) if (keep(value)) yield value;
}
