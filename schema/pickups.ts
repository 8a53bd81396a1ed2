import { DOCUMENT_KINDS } from '../actors/registry.js';
import type { PickupRow, PickupStatus } from '../actors/pickup.js';
import { DomainError } from '../actors/domain/errors.js';
import type { BoxApi } from '../src/box-api.js';
import { builder, PICKUP_READERS } from './builder.js';
import { actorOf } from './compartments.js';
import { pageByKey, sortable } from './pagination.js';
import { birthDateArg, documentNumberArg, documentsArg, phoneArg, referenceArg } from './validation.js';

/**
 * Pickups as integrations and staff see them. Personal data (phone number, birth date, old
 * document number, PIN hash) has no field here on purpose: it never leaves the box.
 */

const STATUSES = ['REGISTERED', 'LOADING', 'READY', 'RELEASING', 'COLLECTED', 'LOCKED', 'EXPIRED', 'RETURNED', 'CANCELLED'] as const satisfies readonly PickupStatus[];

export const PickupStatusEnum = builder.enumType('PickupStatus', { values: STATUSES });
export const DocumentKindEnum = builder.enumType('DocumentKind', { values: DOCUMENT_KINDS });

const PinSmsEnum = builder.enumType('PinSmsState', {
  description: 'Where the SMS with the current PIN is: none yet, committed to the outbox, or delivered to the gateway.',
  values: ['NONE', 'QUEUED', 'SENT'] as const,
});

/** The state of the current PIN's SMS, from the outbox (its id is pin-<pickup>-<serial>), asked in place: once per pickup of a page. */
function pinSmsOf(box: BoxApi, p: PickupRow): 'NONE' | 'QUEUED' | 'SENT' {
  if (p.pinSerial === 0) return 'NONE';
  const state = box.smsState(`pin-${p.id}-${p.pinSerial}`);
  if (state === 'delivered') return 'SENT';
  return state === 'pending' || p.pinQueued ? 'QUEUED' : 'NONE';
}

export const PickupRef = builder.objectRef<PickupRow>('Pickup').implement({
  description: 'One applicant\'s document(s) waiting in (or going into, or gone from) one compartment.',
  fields: (t) => ({
    reference: t.exposeID('reference', { description: 'the Vorgangsnummer given at registration' }),
    documentKind: t.field({ type: DocumentKindEnum, resolve: (p) => p.documentKind }),
    documents: t.exposeInt('documents'),
    accessible: t.exposeBoolean('accessible'),
    status: t.field({ type: PickupStatusEnum, resolve: (p) => p.status }),
    compartmentId: t.exposeString('compartmentId', { nullable: true }),
    failedAttempts: t.exposeInt('failedAttempts'),
    oldDocumentRegistered: t.boolean({ description: 'whether an old document number was registered (the number itself is not shown)', resolve: (p) => p.oldDocumentNumber !== null }),
    personalDataDeleted: t.exposeBoolean('personalDataDeleted'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    readyAt: t.expose('readyAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'end of the pickup window' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    pinSms: t.field({ type: PinSmsEnum, resolve: (p, _a, { box }) => pinSmsOf(box, p) }),
  }),
});

const PickupEdge = builder.objectRef<{ cursor: string; node: PickupRow }>('PickupEdge').implement({
  fields: (t) => ({ cursor: t.exposeString('cursor'), node: t.field({ type: PickupRef, resolve: (e) => e.node }) }),
});

interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export const PageInfoRef = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

const PickupConnection = builder
  .objectRef<{ edges: Array<{ cursor: string; node: PickupRow }>; pageInfo: PageInfoShape; totalCount: number }>('PickupConnection')
  .implement({
    fields: (t) => ({
      edges: t.field({ type: [PickupEdge], resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
      totalCount: t.exposeInt('totalCount', { description: 'matching pickups over all pages' }),
    }),
  });

interface PickupChange {
  change: string;
  reference: string;
  status: PickupStatus;
  compartmentId: string | null;
  at: number;
}

export const PickupEventRef = builder.objectRef<PickupChange>('PickupEvent').implement({
  description: 'A pickup changed status (registered, loading, ready, releasing, collected, expired …).',
  fields: (t) => ({
    change: t.exposeString('change'),
    reference: t.exposeID('reference'),
    status: t.field({ type: PickupStatusEnum, resolve: (e) => e.status }),
    compartmentId: t.exposeString('compartmentId', { nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

const RegisterPickupInput = builder.inputType('RegisterPickupInput', {
  fields: (t) => ({
    reference: t.string({ required: true, validate: referenceArg }),
    documentKind: t.field({ type: DocumentKindEnum, required: true }),
    phone: t.string({ required: true, description: 'a mobile number, international (+49 …) or German', validate: phoneArg }),
    birthDate: t.string({ required: true, description: 'YYYY-MM-DD', validate: birthDateArg }),
    oldDocumentNumber: t.string({ required: false, validate: documentNumberArg }),
    accessible: t.boolean({ required: false }),
    documents: t.int({ required: false, validate: documentsArg }),
  }),
});

/** The pickup with `reference`, or PICKUP_NOT_FOUND. */
export function pickupOrThrow(box: BoxApi, reference: string): PickupRow {
  const p = box.pickup(reference);
  if (!p) throw new DomainError('PICKUP_NOT_FOUND', 'No pickup exists for this reference');
  return p;
}

const pickupKey = (p: PickupRow): string => `${sortable(p.createdAt)}|${p.id}`;

/** Turns a `pickup.changed` event of the box stream into what subscribers see. */
export function pickupChangeOf(e: { [k: string]: unknown }, now: number): PickupChange {
  return {
    change: String(e.change),
    reference: String(e.reference),
    status: e.status as PickupStatus,
    compartmentId: (e.compartmentId as string | null) ?? null,
    at: typeof e.at === 'number' ? e.at : now,
  };
}

builder.queryFields((t) => ({
  pickups: t.field({
    type: PickupConnection,
    authScopes: PICKUP_READERS,
    description: 'Pickups, oldest registration first.',
    args: {
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
      status: t.arg({ type: [PickupStatusEnum], required: false }),
      reference: t.arg.string({ required: false }),
      updatedSince: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: (_root, args, { box }) => {
      const statuses = args.status ? new Set<string>(args.status) : null;
      const reference = args.reference ? args.reference.trim() : null;
      const since = args.updatedSince ?? null;
      // Filtered before the box copies anything: a worklist page does not copy every live pickup.
      const list = box
        .pickups((p) => (!statuses || statuses.has(p.status)) && (reference === null || p.reference === reference) && (since === null || p.updatedAt >= since))
        .slice()
        .sort((a, b) => (pickupKey(a) < pickupKey(b) ? -1 : 1));
      return pageByKey('pickup', list, pickupKey, args.first, args.after);
    },
  }),
  pickup: t.field({
    type: PickupRef,
    nullable: true,
    authScopes: PICKUP_READERS,
    args: { reference: t.arg.string({ required: true }) },
    resolve: async (_root, { reference }, { box }) => (await box.pickupOrArchived(reference)) ?? null,
  }),
}));

builder.mutationFields((t) => {
  /** A mutation on one pickup by its reference, done as the caller: answered with the pickup as it is then. */
  const onePickup = (description: string, authScopes: { staff: true } | { $any: { integration: true; staff: true } }, act: (box: BoxApi, reference: string, by: string) => Promise<{ reference: string }>) =>
    t.field({
      type: PickupRef,
      description,
      authScopes,
      args: { reference: t.arg.string({ required: true }) },
      resolve: async (_root, { reference }, ctx) => pickupOrThrow(ctx.box, (await act(ctx.box, reference, actorOf(ctx))).reference),
    });
  return {
    registerPickup: t.field({
      type: PickupRef,
      authScopes: { integration: true },
      args: { input: t.arg({ type: RegisterPickupInput, required: true }) },
      resolve: async (_root, { input }, ctx) => {
        const { reference } = await ctx.box.registerPickup(
          {
            reference: input.reference,
            documentKind: input.documentKind,
            phone: input.phone,
            birthDate: input.birthDate,
            oldDocumentNumber: input.oldDocumentNumber ?? null,
            accessible: input.accessible ?? false,
            ...(input.documents != null ? { documents: input.documents } : {}),
          },
          actorOf(ctx),
        );
        return pickupOrThrow(ctx.box, reference);
      },
    }),
    cancelPickup: onePickup('Cancels a pickup (the integration, or staff at the counter); a document in the box goes on the retrieval worklist.', { $any: { integration: true, staff: true } }, (box, reference, by) => box.cancelPickup(reference, by)),
    loadPickup: onePickup('Opens a fitting free compartment for the document; closing the door makes the pickup READY.', { staff: true }, (box, reference, by) => box.loadPickup(reference, by)),
    retrievePickup: onePickup('Opens the compartment so staff can take the document back to the counter (an expired or locked pickup, or one the citizen will fetch in person).', { staff: true }, (box, reference, by) => box.retrievePickup(reference, by)),
    reissuePin: onePickup('Sends a new PIN (the old one stops working) and unlocks a locked pickup.', { staff: true }, (box, reference, by) => box.reissuePin(reference, by)),
    liftPickupQuarantine: onePickup('After repair: takes a pickup refused with PICKUP_FAILED (its handling kept crashing the box) back into operation; its waiting timers run. If it still crashes, it is refused again.', { staff: true }, (box, reference, by) => box.liftPickupQuarantine(reference, by)),
  };
});

builder.subscriptionFields((t) => ({
  pickupEvents: t.field({
    type: PickupEventRef,
    description: 'Every status change of pickups (optionally of one reference), so integrations never poll.',
    authScopes: PICKUP_READERS,
    args: { reference: t.arg.string({ required: false }) },
    subscribe: (_root, { reference }, { box }) =>
      box.events.iterate(
        (e) => e.type === 'pickup.changed' && (!reference || e.reference === reference.trim()),
        (e) => pickupChangeOf(e, box.clock.now()),
      ),
    resolve: (event) => event,
  }),
}));

export type { PickupChange };
