import { GraphQLError } from 'graphql';
import { DomainError } from '../actors/domain/errors.js';
import { makeTd1 } from '../actors/domain/mrz.js';
import type { Message } from '../actors/runtime/types.js';
import type { TraceEntry } from '../actors/runtime/trace.js';
import { builder } from './builder.js';
import { CompartmentRef, compartmentOrThrow } from './compartments.js';
import { pushed } from './streams.js';
import { advanceArg, birthDateArg, documentNumberArg } from './validation.js';

/**
 * The test harness: injects actor messages and simulated hardware events, and reads the trace.
 * Only a `harness` token reaches these fields, and the servers grant that role only when started
 * with `harness: true`; against real devices the simulations refuse with DEVICE_UNAVAILABLE.
 */

const HARNESS = { harness: true } as const;


export const TraceEntryRef = builder.objectRef<TraceEntry>('TraceEntry').implement({
  description: 'One message between actors (never its payload).',
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    id: t.exposeString('id'),
    at: t.expose('at', { type: 'DateTime' }),
    from: t.exposeString('from'),
    to: t.exposeString('to'),
    type: t.exposeString('type'),
    causation: t.exposeString('causation', { nullable: true }),
    dead: t.boolean({ description: 'nobody took the message', resolve: (e) => e.dead === true }),
  }),
});

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.mutationFields((t) => ({
  injectMessage: t.boolean({
    description: 'Sends any message to any actor address, as if another actor had sent it.',
    authScopes: HARNESS,
    args: { to: t.arg.string({ required: true }), type: t.arg.string({ required: true }), payloadJson: t.arg.string({ required: false }) },
    resolve: async (_root, args, { box }) => {
      let payload: unknown = {};
      if (args.payloadJson) {
        try {
          payload = JSON.parse(args.payloadJson);
        } catch {
          throw badInput('payloadJson is not valid JSON');
        }
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw badInput('payloadJson must be a JSON object');
      box.inject(args.to, { ...(payload as Record<string, unknown>), type: args.type } as Message);
      await box.simulation.settle();
      return true;
    },
  }),
  simulateDoor: t.field({
    type: CompartmentRef,
    description: 'Opens or closes a door by hand. Opening a latched door fails unless `force` (a break-in).',
    authScopes: HARNESS,
    args: {
      compartmentId: t.arg.id({ required: true }),
      open: t.arg.boolean({ required: true }),
      force: t.arg.boolean({ required: false, defaultValue: false }),
    },
    resolve: async (_root, args, { box }) => {
      const id = String(args.compartmentId);
      compartmentOrThrow(box, id);
      const sim = box.simulation;
      // The person acts on a settled world: after the box dealt with what it had in hand.
      await sim.settle();
      if (!args.open) sim.closeDoor(id);
      else if (args.force) sim.forceDoor(id);
      else if (!sim.openDoor(id)) throw new DomainError('COMPARTMENT_BUSY', `the latch of ${id} holds`);
      await sim.settle();
      return compartmentOrThrow(box, id);
    },
  }),
  simulateCardInsert: t.boolean({
    description: 'Inserts an ID card with a valid MRZ; false when the slot does not take cards now.',
    authScopes: HARNESS,
    args: { documentNumber: t.arg.string({ required: true, validate: documentNumberArg }), birthDate: t.arg.string({ required: true, description: 'YYYY-MM-DD', validate: birthDateArg }) },
    resolve: async (_root, args, { box }) => {
      const mrz = makeTd1({ documentNumber: args.documentNumber, birthDate: args.birthDate, expiryDate: '2030-01-31', surname: 'MUSTERMANN', givenNames: 'ERIKA' });
      await box.simulation.settle();
      const taken = box.simulation.insertCard({ mrz });
      await box.simulation.settle();
      return taken;
    },
  }),
  simulateShredderJam: t.boolean({
    description: 'The shredder jams on the next card.',
    authScopes: HARNESS,
    resolve: (_root, _args, { box }) => {
      box.simulation.jamShredderNext();
      return true;
    },
  }),
  simulateHeadphones: t.boolean({
    description: 'Headphones go into (plugged: true) or come out of the jack of a panel; the panel\'s session shows it as `headphones`. On the register-level simulation the jack contact changes on its expander pin and is seen by the next polls (advance the clock).',
    authScopes: HARNESS,
    args: { kioskId: t.arg.id({ required: true }), plugged: t.arg.boolean({ required: true }) },
    resolve: async (_root, args, { box }) => {
      box.simulation.plugHeadphones(String(args.kioskId), args.plugged);
      await box.simulation.settle();
      return true;
    },
  }),
  simulateBoardFault: t.field({
    type: [CompartmentRef],
    description: 'A lock board fails (ok: false; code I2C_NACK or I2C_TIMEOUT) or recovers. On the register-level I2C simulation the fault is injected on the bus and the lock bank finds it by polling (advance the clock); on device-level simulation the board reports it at once.',
    authScopes: HARNESS,
    args: {
      compartmentIds: t.arg.idList({ required: true }),
      ok: t.arg.boolean({ required: true }),
      code: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, { box }) => {
      const ids = args.compartmentIds.map(String);
      for (const id of ids) compartmentOrThrow(box, id);
      box.simulation.boardFault(ids, args.ok, args.code ?? undefined);
      await box.simulation.settle();
      return ids.map((id) => compartmentOrThrow(box, id));
    },
  }),
  advanceClock: t.field({
    type: 'DateTime',
    description: 'Moves the simulated clock forward, running every timer due on the way; returns the new time.',
    authScopes: HARNESS,
    args: { ms: t.arg.int({ required: true, validate: advanceArg }) },
    resolve: async (_root, { ms }, { box }) => {
      return box.simulation.advance(ms);
    },
  }),
}));

const SimulatedSmsRef = builder.objectRef<{ id: string; to: string; text: string }>('SimulatedSms').implement({
  description: 'A text message the simulated SMS gateway delivered (only boxes without a real gateway have them).',
  fields: (t) => ({ id: t.exposeID('id'), to: t.exposeString('to'), text: t.exposeString('text') }),
});

builder.queryFields((t) => ({
  simulatedSms: t.field({
    type: [SimulatedSmsRef],
    description: "What the citizens' phones received from the simulated SMS gateway, newest last: the harness's way to learn a PIN.",
    authScopes: HARNESS,
    args: { last: t.arg.int({ required: false, defaultValue: 10 }) },
    resolve: (_root, args, { box }) => box.simulation.smsSent().slice(-Math.min(Math.max(args.last ?? 10, 1), 100)),
  }),
  traceEntries: t.field({
    type: [TraceEntryRef],
    description: 'The kept trace after `sinceSeq` (at most `last` entries, newest last).',
    authScopes: { $any: { monitor: true, harness: true } },
    args: { sinceSeq: t.arg.int({ required: false }), last: t.arg.int({ required: false, defaultValue: 200 }) },
    resolve: (_root, args, { box }) => box.trace.entries(args.sinceSeq ?? 0).slice(-Math.min(Math.max(args.last ?? 200, 1), 5_000)),
  }),
}));

builder.subscriptionFields((t) => ({
  trace: t.field({
    type: TraceEntryRef,
    description: 'Every message between actors from now on (optionally only those to addresses starting with `to`).',
    authScopes: { $any: { monitor: true, harness: true } },
    args: { to: t.arg.string({ required: false }) },
    subscribe: (_root, args, { box }) =>
      pushed<TraceEntry>((push) => box.trace.listen((entry) => (!args.to || entry.to.startsWith(args.to) ? push(entry) : undefined))),
    resolve: (entry) => entry,
  }),
}));
