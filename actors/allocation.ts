import type { BoxEnqueue, BoxOutgoing } from './protocol.js';
import { z } from 'zod';
import { defineActor } from './runtime/define.js';
import { naturalOrder } from './runtime/order.js';
import { setRow } from './runtime/table.js';
import { REGISTRY, SIZES, compartmentAddress, errorCode, pickupAddress, pickupKnownBy, request, type Size } from './messages.js';

/**
 * The allocation actor decides which compartment a pickup goes into, and holds the box's claims on
 * compartments in the shared store (a fleet's boxes share one, so no compartment is ever given
 * twice). It owns the slot table and nothing else:
 *
 * - **which pickup a compartment is given to** (`pickupId`), from the moment its claim is won until
 *   the registry frees it (collected, retrieved, a load that did not happen);
 * - **whether the compartment can be given at all** (`available`), as the compartment actor reports
 *   it (a forced or jammed door, out of service, a failed lock board, the actor failed for good):
 *   the compartment actor is the source, this is what the choice reads;
 * - the **claim's owner** until the store confirms its release, so a release lost with the process
 *   is done again at the next start.
 *
 * The registry asks for a compartment (`allocate`) and hears which one it won (`compartment.claimed`);
 * it says when one is free again (`free`). The registry keeps no copy of this table.
 */

export interface Slot {
  size: Size;
  accessible: boolean;
  available: boolean;
  pickupId: string | null;
  /**
   * The owner of this box's claim on the compartment in the shared store. Kept after the slot is
   * freed until the store confirms the release (`compartment.released`).
   */
  claimedBy?: string | null;
  /**
   * Reserved because the compartment said after a restart that it holds `pickupId`, which the
   * registry does not have in it (`reserve`): kept until the compartment is freed, also when the
   * registry's pickups name nobody in it (see `allocation.adopt`). Absent otherwise.
   */
  reported?: true;
}

export interface AllocationCtx {
  slots: Record<string, Slot>;
  /**
   * Loads whose compartment is being won in the store (owner → pickup), committed before the
   * claim's I/O starts. A claim won but not committed when the process stopped is given back at the
   * next start, also when the registry has no load to start over (cancelled meanwhile).
   */
  claiming?: Record<string, string>;
  /**
   * Claims won on a compartment that another pickup held by then (reserved while it was being
   * won), given back until the store confirms (compartment → owner): the slot is not free, so its
   * `claimedBy` cannot keep them, and a release lost with the process is done again at the next start.
   */
  givingBack?: Record<string, string>;
}

export interface AllocationInput {
  compartments: Array<{ id: string; size: Size; accessible: boolean }>;
}

/** Atomic claims in the shared store (see src/persistence): keyv alone has no compare-and-set. */
export interface CompartmentClaims {
  claimOnce(key: string, owner: string): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
}

/** A staff member's load the claim answers, as the registry asked it. */
const loadRequest = z.object({ ...request, by: z.string() });
const slotSchema = z.object({
  size: z.enum(SIZES),
  accessible: z.boolean(),
  available: z.boolean(),
  pickupId: z.string().nullable(),
  claimedBy: z.string().nullable().optional(),
  reported: z.literal(true).optional(),
});

/** Everything the allocation actor takes, as a runtime schema. */
export const AllocationMessage = z.discriminatedUnion('type', [
  /** a compartment for a pickup being loaded (from the registry); answered to the registry with `compartment.claimed` */
  z.object({ type: z.literal('allocate'), pickupId: z.string(), owner: z.string(), documents: z.number(), accessible: z.boolean(), request: loadRequest }),
  /** the claim's outcome in the store (this actor's own I/O) */
  z.object({
    type: z.literal('allocation.won'),
    pickupId: z.string(),
    owner: z.string(),
    compartmentId: z.string().nullable(),
    failed: z.literal('STORAGE_UNAVAILABLE').optional(),
    request: loadRequest,
    /** what the pickup needs, to try again if the compartment won was taken meanwhile (absent from an earlier version's I/O) */
    need: z.object({ documents: z.number(), accessible: z.boolean() }).optional(),
  }),
  /** the compartment no longer holds the pickup's document (or never got it): its claim goes back */
  z.object({ type: z.literal('free'), compartmentId: z.string(), owner: z.string().nullable() }),
  /** the store confirmed a release (this actor's own I/O, or a release the registry started before this actor existed) */
  z.object({ type: z.literal('compartment.released'), compartmentId: z.string(), owner: z.string() }),
  /** a compartment says after a restart that it holds a pickup: kept from new loads (if free) until it is freed */
  z.object({ type: z.literal('reserve'), compartmentId: z.string(), pickupId: z.string() }),
  /** a load interrupted while its compartment was being won: whatever it may have won goes back */
  z.object({ type: z.literal('abandon'), owner: z.string() }),
  z.object({ type: z.literal('compartment.availability'), compartmentId: z.string(), available: z.boolean(), code: errorCode.optional() }),
  /**
   * The slots as the registry has them: those a registry saved before this actor existed (merged
   * only), or, as an earlier version answered `allocation.started`, the compartments its live
   * pickups name with `awaiting`, the pickups being loaded whose compartment is still being chosen:
   * the registry's pickups are then the whole truth, and a slot given to a pickup they do not have
   * there is mended. (Now the answer comes pickup by pickup: `slots.live`, `slot.expect`.)
   */
  z.object({ type: z.literal('allocation.adopt'), slots: z.record(z.string(), slotSchema.partial()), awaiting: z.array(z.string()).optional() }),
  /**
   * The catch-up after `allocation.started`, pickup by pickup. First `slots.live`: the pickups
   * that may have a compartment (in one, or being loaded); a slot given to any other pickup known
   * by then (its id's number at most `upTo`) is freed and its claim given back. Then one
   * `slot.expect` per pickup: the compartment it is in (given to it, and any other slot it has
   * freed), being loaded (`awaiting`: the slot it won meanwhile is kept), or none (its slots freed).
   * What a compartment said it holds (`reported`) is never mended away.
   */
  z.object({ type: z.literal('slots.live'), pickupIds: z.array(z.string()), upTo: z.number() }),
  z.object({ type: z.literal('slot.expect'), pickupId: z.string(), compartmentId: z.string().nullable(), awaiting: z.boolean() }),
  /** a message of this actor reached an actor that failed for good, or crashed it (`crashed`), and the supervisor sends it back */
  z.object({ type: z.literal('delivery.failed'), to: z.string(), messageType: z.string(), crashed: z.boolean().optional() }),
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('recovered') }),
  /** restarted by the supervisor after a crash, or revived by staff after it failed for good */
  z.object({ type: z.literal('restarted'), code: errorCode.optional() }),
]);
export type AllocationEvent = z.infer<typeof AllocationMessage>;

export type AllocationIo =
  /** wins the first free candidate in the shared store, in order */
  | { kind: 'claim'; pickupId: string; owner: string; candidates: string[]; request: z.infer<typeof loadRequest>; need?: Need }
  | { kind: 'release'; compartmentId: string; owner: string };

/** What a pickup being loaded needs of a compartment. */
type Need = { documents: number; accessible: boolean };

/** The size a pickup needs: one document fits S, up to three M, more L. */
const sizeNeeded = (documents: number) => (documents <= 1 ? 0 : documents <= 3 ? 1 : 2);

export function allocationActor(claims: CompartmentClaims, boxName = 'box') {
  const compartmentKey = (id: string) => `${boxName}:compartment:${id}`;
  type Enq = BoxEnqueue<AllocationCtx, AllocationIo>;

  const slot = (ctx: AllocationCtx, id: string, patch: Partial<Slot>): AllocationCtx => {
    const current = ctx.slots[id];
    return current ? { ...ctx, slots: setRow(ctx.slots, id, { ...current, ...patch }) } : ctx;
  };

  /** Free compartments the pickup fits, in the order they are tried: smallest fitting size first, accessible ones kept for those who need them. */
  const candidates = (ctx: AllocationCtx, documents: number, accessible: boolean): string[] => {
    const need = sizeNeeded(documents);
    return Object.entries(ctx.slots)
      .filter(([, c]) => c.available && c.pickupId === null && SIZES.indexOf(c.size) >= need && (!accessible || c.accessible))
      .sort(([ia, a], [ib, b]) => {
        const bySize = SIZES.indexOf(a.size) - SIZES.indexOf(b.size);
        if (bySize) return bySize;
        if (!accessible && a.accessible !== b.accessible) return a.accessible ? 1 : -1;
        return naturalOrder(ia, ib);
      })
      .map(([id]) => id);
  };

  const release = (enq: Enq, compartmentId: string, owner: string) => enq.emit.io({ op: { kind: 'release', compartmentId, owner } });

  /**
   * The compartment no longer holds the pickup's document (or never got it): free, its claim given
   * back (`owner` null: none to give). The slot keeps the owner until the store confirms, so a
   * release lost with the process is done at the next start.
   */
  const freed = (ctx: AllocationCtx, id: string, owner: string | null, enq: Enq): AllocationCtx => {
    const current = ctx.slots[id];
    if (!current) return ctx;
    const { reported: _reservation, ...rest } = current;
    if (owner !== null) release(enq, id, owner);
    return { ...ctx, slots: setRow(ctx.slots, id, { ...rest, pickupId: null, ...(owner !== null ? { claimedBy: owner } : {}) }) };
  };

  /**
   * A slot whose pickup the registry does not have in it: given to the pickup it has there
   * (`registry`), or freed and its claim given back (audited), unless a compartment's report
   * reserved it.
   */
  const mendAway = (ctx: AllocationCtx, id: string, registry: string | null, enq: Enq): AllocationCtx => {
    const s = ctx.slots[id];
    if (!s || s.pickupId === null || s.pickupId === registry || s.reported) return ctx;
    enq.emit.audit({ entry: { action: 'allocation.mended', subject: id, detail: { slot: s.pickupId, registry } } });
    return registry !== null ? slot(ctx, id, { pickupId: registry }) : freed(ctx, id, s.claimedBy ?? null, enq);
  };

  /**
   * The registry's live pickups are the truth about which compartment holds which: a slot given to
   * a pickup they do not have in it (a `free` refused while this actor was failed, lost with
   * its state) is given to the pickup the registry has there, or freed and its claim given back.
   * Kept: a pickup the registry is loading right now (its compartment won, the registry not yet
   * told when it took its snapshot), and what a compartment said it holds (`reported`).
   */
  const mend = (ctx: AllocationCtx, named: Record<string, Partial<Slot>>, awaiting: ReadonlySet<string>, enq: Enq): AllocationCtx => {
    let next = ctx;
    for (const [id, s] of Object.entries(ctx.slots)) if (s.pickupId === null || !awaiting.has(s.pickupId)) next = mendAway(next, id, named[id]?.pickupId ?? null, enq);
    return next;
  };

  /** Whatever `owner` may have won gives back: every free slot's claim, kept as its owner until confirmed. */
  const giveBack = (ctx: AllocationCtx, owner: string, enq: Enq): AllocationCtx => {
    let next = ctx;
    for (const [id, c] of Object.entries(ctx.slots)) {
      if (c.pickupId !== null) continue;
      release(enq, id, owner);
      if (!c.claimedBy) next = slot(next, id, { claimedBy: owner });
    }
    return next;
  };
  const claimed = (ctx: AllocationCtx, owner: string): AllocationCtx => {
    if (!ctx.claiming || !(owner in ctx.claiming)) return ctx;
    const { [owner]: _done, ...claiming } = ctx.claiming;
    return { ...ctx, claiming };
  };

  /**
   * Claims given back after the last commit of their slot, but perhaps not in the store, are given
   * back again; loads whose compartment was being won are over (their claims given back), and the
   * registry is told (`tell`) when it did not start over itself.
   */
  const reconcile = (ctx: AllocationCtx, enq: Enq, tell: boolean): AllocationCtx | undefined => {
    for (const [id, c] of Object.entries(ctx.slots)) if (c.pickupId === null && c.claimedBy) release(enq, id, c.claimedBy);
    for (const [id, owner] of Object.entries(ctx.givingBack ?? {})) release(enq, id, owner);
    if (!ctx.claiming || Object.keys(ctx.claiming).length === 0) return;
    let next: AllocationCtx = { ...ctx, claiming: {} };
    for (const [owner, pickupId] of Object.entries(ctx.claiming)) {
      next = giveBack(next, owner, enq);
      if (tell) enq.emit.send({ to: pickupAddress(pickupId), message: { type: 'load.abandoned', pickupId } });
    }
    return next;
  };

  /** Asks the registry which compartments its pickups hold (answered with `allocation.adopt`). */
  const askSlots = (enq: Enq) => enq.emit.send({ to: REGISTRY, message: { type: 'allocation.started' } });
  /** After a restart, a crash or a revival: `reconcile`, then the slots are checked against the registry's pickups. */
  const resync = (ctx: AllocationCtx, enq: Enq, tell: boolean): AllocationCtx | undefined => {
    const next = reconcile(ctx, enq, tell);
    askSlots(enq);
    return next;
  };

  return defineActor<AllocationCtx, AllocationEvent, AllocationIo, BoxOutgoing>({
    kind: 'allocation',
    messages: AllocationMessage,
    tables: ['slots'],
    init: (input: AllocationInput) => ({
      slots: Object.fromEntries(input.compartments.map((c) => [c.id, { size: c.size, accessible: c.accessible, available: true, pickupId: null }])),
    }),
    on: {
      // A new allocation actor: the registry tells which compartments its pickups hold (or hands
      // over the slots it kept itself before this actor existed), and every compartment says
      // whether it can be given.
      started: (ctx, _e, enq) => {
        askSlots(enq);
        for (const id of Object.keys(ctx.slots)) enq.emit.send({ to: compartmentAddress(id), message: { type: 'availability.report' } });
      },

      'allocation.adopt': (ctx, e, enq) => {
        let next = ctx;
        for (const [id, s] of Object.entries(e.slots)) {
          const current = next.slots[id];
          // A compartment no longer in the layout is not revived; one given meanwhile keeps its pickup.
          if (!current) continue;
          next = slot(next, id, {
            pickupId: current.pickupId ?? s.pickupId ?? null,
            claimedBy: current.claimedBy ?? s.claimedBy ?? null,
            available: current.available && (s.available ?? true),
            // reserved by the compartment's report before the hand-over: kept as such (see mend)
            ...(current.pickupId == null && s.pickupId && s.reported ? { reported: true as const } : {}),
          });
          // A claim the earlier registry gave back after the last commit of its slot, but perhaps
          // not in the store (its next start would have done it again): done here, or the
          // compartment is never given to anybody again.
          const adopted = next.slots[id]!;
          if (adopted.pickupId === null && adopted.claimedBy) release(enq, id, adopted.claimedBy);
        }
        return e.awaiting ? mend(next, e.slots, new Set(e.awaiting), enq) : next;
      },

      'slots.live': (ctx, e, enq) => {
        const live = new Set(e.pickupIds);
        let next = ctx;
        for (const [id, s] of Object.entries(ctx.slots)) {
          if (s.pickupId !== null && !live.has(s.pickupId) && pickupKnownBy(s.pickupId, e.upTo)) next = mendAway(next, id, null, enq);
        }
        return next === ctx ? undefined : next;
      },

      'slot.expect': (ctx, e, enq) => {
        // Being loaded: the compartment won for it may not have reached the registry yet.
        if (e.awaiting) return;
        let next = ctx;
        for (const [id, s] of Object.entries(ctx.slots)) if (s.pickupId === e.pickupId && id !== e.compartmentId) next = mendAway(next, id, null, enq);
        const own = e.compartmentId === null ? undefined : next.slots[e.compartmentId];
        // (A compartment no longer in the layout is not revived.)
        if (own?.pickupId === null) next = slot(next, e.compartmentId!, { pickupId: e.pickupId });
        else if (own) next = mendAway(next, e.compartmentId!, e.pickupId, enq);
        return next === ctx ? undefined : next;
      },

      allocate: (ctx, e, enq) => {
        const found = candidates(ctx, e.documents, e.accessible);
        if (!found.length) return void enq.emit.send({ to: pickupAddress(e.pickupId), message: { type: 'compartment.claimed', pickupId: e.pickupId, compartmentId: null, ...e.request } });
        // Won in the shared store first: boxes of a fleet never assign one twice.
        const need = { documents: e.documents, accessible: e.accessible };
        enq.emit.io({ op: { kind: 'claim', pickupId: e.pickupId, owner: e.owner, candidates: found, request: e.request, need } });
        return { ...ctx, claiming: { ...ctx.claiming, [e.owner]: e.pickupId } };
      },

      'allocation.won': (ctx, e, enq) => {
        const won = e.compartmentId ? ctx.slots[e.compartmentId] : undefined;
        if (e.compartmentId && won && ((won.pickupId !== null && won.pickupId !== e.pickupId) || !won.available)) {
          // Taken while it was being won (a compartment said after a restart that it holds
          // another pickup) or out of service since: given back, and the pickup tries the
          // compartments free now. The claim is kept on record until the store confirms: as the
          // slot's owner, or in `givingBack` when the slot holds another pickup or another claim.
          release(enq, e.compartmentId, e.owner);
          const ownedByOther = won.pickupId !== null || (!!won.claimedBy && won.claimedBy !== e.owner);
          const given = ownedByOther
            ? { ...ctx, givingBack: { ...ctx.givingBack, [e.compartmentId]: e.owner } }
            : won.claimedBy ? ctx : slot(ctx, e.compartmentId, { claimedBy: e.owner });
          const found = e.need ? candidates(given, e.need.documents, e.need.accessible).filter((id) => id !== e.compartmentId) : [];
          if (found.length > 0) {
            enq.emit.io({ op: { kind: 'claim', pickupId: e.pickupId, owner: e.owner, candidates: found, request: e.request, need: e.need! } });
            return given === ctx ? undefined : given;
          }
          enq.emit.send({ to: pickupAddress(e.pickupId), message: { type: 'compartment.claimed', pickupId: e.pickupId, compartmentId: null, ...e.request } });
          const done = claimed(given, e.owner);
          return done === ctx ? undefined : done;
        }
        enq.emit.send({
          to: pickupAddress(e.pickupId),
          message: { type: 'compartment.claimed', pickupId: e.pickupId, compartmentId: e.compartmentId, ...(e.failed ? { failed: e.failed } : {}), ...e.request },
        });
        const settled = claimed(ctx, e.owner);
        return e.compartmentId ? slot(settled, e.compartmentId, { pickupId: e.pickupId, claimedBy: e.owner }) : settled;
      },

      free: (ctx, e, enq) => {
        const s = ctx.slots[e.compartmentId];
        // The free of a claim the slot no longer has: a collection's, sent when its door closed,
        // after this actor restarted with the door open, mended the slot (the registry had ended
        // the pickup) and gave it to the next load. The slot and its claim are that load's now.
        if (e.owner !== null && s?.pickupId != null && s.claimedBy && s.claimedBy !== e.owner) return;
        return freed(ctx, e.compartmentId, e.owner, enq);
      },

      'compartment.released': (ctx, e) => {
        let next = ctx;
        if (ctx.givingBack?.[e.compartmentId] === e.owner) {
          const { [e.compartmentId]: _done, ...givingBack } = ctx.givingBack;
          next = { ...ctx, givingBack };
        }
        const s = next.slots[e.compartmentId];
        // A later claim by another owner is not touched.
        if (!s || s.claimedBy !== e.owner || s.pickupId !== null) return next === ctx ? undefined : next;
        return slot(next, e.compartmentId, { claimedBy: null });
      },

      reserve: (ctx, e) => (ctx.slots[e.compartmentId]?.pickupId === null ? slot(ctx, e.compartmentId, { pickupId: e.pickupId, reported: true }) : undefined),

      abandon: (ctx, e, enq) => {
        const next = giveBack(claimed(ctx, e.owner), e.owner, enq);
        return next === ctx ? undefined : next;
      },

      'compartment.availability': (ctx, e) => (ctx.slots[e.compartmentId] && ctx.slots[e.compartmentId]!.available !== e.available ? slot(ctx, e.compartmentId, { available: e.available }) : undefined),

      // A compartment restored failed for good never answers `availability.report`: given to nobody.
      'delivery.failed': (ctx, e) => {
        // A compartment that crashed on the message restarts and reports itself.
        if (e.crashed) return;
        const id = e.to.startsWith('compartment/') ? e.to.slice('compartment/'.length) : null;
        return id !== null && ctx.slots[id]?.available ? slot(ctx, id, { available: false }) : undefined;
      },

      // After a restart: claims given back after the last commit of their slot, but perhaps not in the store, again.
      // Claims won for a load but not committed before the stop: given back (the load, if its
      // pickup is still to be loaded, starts over at the registry). The registry tells again
      // which compartments its pickups hold (`allocation.adopt`), and slots that drifted are mended.
      recovered: (ctx, _e, enq) => resync(ctx, enq, false),
      // After a crash (the claim's I/O failed, or a handler threw) or a revival: the same, and the
      // registry, which did not restart, hears that the loads being given a compartment are over.
      // (What it freed while this actor was failed was sent back to it: mended by the adoption.)
      restarted: (ctx, _e, enq) => resync(ctx, enq, true),
    },
    async io(op) {
      switch (op.kind) {
        case 'claim':
          try {
            for (const id of op.candidates) {
              if (await claims.claimOnce(compartmentKey(id), op.owner)) return { type: 'allocation.won', pickupId: op.pickupId, owner: op.owner, compartmentId: id, request: op.request, ...(op.need ? { need: op.need } : {}) };
            }
            return { type: 'allocation.won', pickupId: op.pickupId, owner: op.owner, compartmentId: null, request: op.request };
          } catch (error) {
            // The store could not be asked (disk full, Redis down): nothing was claimed, and the
            // staff member's load is refused with the code rather than held until storage returns.
            if ((error as { code?: unknown } | null)?.code !== 'STORAGE_UNAVAILABLE') throw error;
            return { type: 'allocation.won', pickupId: op.pickupId, owner: op.owner, compartmentId: null, failed: 'STORAGE_UNAVAILABLE', request: op.request };
          }
        // A release storage refuses rejects with STORAGE_UNAVAILABLE: the supervisor parks it and
        // runs it again once storage takes writes; the slot keeps the owner until it is confirmed.
        case 'release':
          await claims.release(compartmentKey(op.compartmentId), op.owner);
          return { type: 'compartment.released', compartmentId: op.compartmentId, owner: op.owner };
      }
    },
  });
}
