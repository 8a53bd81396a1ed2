import type { BoxApi } from '../src/box-api.js';
import { auditHash, type AuditRecord } from '../src/persistence/keyv-persistence.js';
import { auditFilterArg, auditLimitArg } from './validation.js';
import { builder, READERS } from './builder.js';
import { PageInfoRef } from './pickups.js';
import { decodeCursor, encodeCursor, pageSize } from './pagination.js';

/** The append-only, hash-chained audit log, newest entries last. */

const AuditEntryRef = builder.objectRef<AuditRecord>('AuditEntry').implement({
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    at: t.expose('at', { type: 'DateTime' }),
    action: t.exposeString('action', { description: 'e.g. unlock.pulsed, door.opened, oldId.destroyed, pickup.loaded' }),
    actor: t.exposeString('actor', { nullable: true, description: 'the staff member or role that caused it' }),
    by: t.exposeString('by', { description: 'the actor address that wrote it' }),
    subject: t.exposeString('subject', { nullable: true }),
    detailJson: t.string({ nullable: true, description: 'details as JSON', resolve: (r) => (r.detail === undefined ? null : JSON.stringify(r.detail)) }),
    hash: t.exposeString('hash'),
    prevHash: t.exposeString('prevHash'),
  }),
});

const AuditEdge = builder.objectRef<{ cursor: string; node: AuditRecord }>('AuditEdge').implement({
  fields: (t) => ({ cursor: t.exposeString('cursor'), node: t.field({ type: AuditEntryRef, resolve: (e) => e.node }) }),
});

type AuditPage = {
  edges: Array<{ cursor: string; node: AuditRecord }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
};

const AuditConnection = builder.objectRef<AuditPage>('AuditConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [AuditEdge], resolve: (c) => c.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.field({
    type: AuditConnection,
    authScopes: READERS,
    args: { first: t.arg.int({ required: false }), after: t.arg.string({ required: false }) },
    resolve: async (_root, args, { box }) => {
      const size = pageSize(args.first);
      const afterSeq = args.after ? Number(decodeCursor('audit', args.after)) : 0;
      const records = await box.audit(afterSeq + 1, size + 1);
      const items = records.slice(0, size);
      const edges = items.map((node) => ({ cursor: encodeCursor('audit', String(node.seq)), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: records.length > size,
          hasPreviousPage: afterSeq > 0,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
}));

/**
 * The staff console's view of the log: newest first, before `beforeSeq`, filtered by an action
 * prefix (`pickup.` or `door.opened`), a subject (compartment or reference) and who caused it.
 */
export async function searchAudit(
  box: BoxApi,
  filter: { action?: string | null; subject?: string | null; actor?: string | null; beforeSeq?: number | null; limit: number },
): Promise<AuditRecord[]> {
  const head = await box.auditHead();
  const found: AuditRecord[] = [];
  const BATCH = 500;
  // At most this many records are looked at per request, so a rare filter cannot stall the box.
  const budget = 50_000;
  let to = Math.min(head.seq, (filter.beforeSeq ?? head.seq + 1) - 1);
  for (let looked = 0; to >= 1 && found.length < filter.limit && looked < budget; to -= BATCH, looked += BATCH) {
    const from = Math.max(1, to - BATCH + 1);
    const batch = await box.audit(from, to - from + 1);
    for (let i = batch.length - 1; i >= 0 && found.length < filter.limit; i--) {
      const r = batch[i]!;
      if (filter.action && !r.action.startsWith(filter.action)) continue;
      if (filter.subject && r.subject !== filter.subject) continue;
      if (filter.actor && r.actor !== filter.actor) continue;
      found.push(r);
    }
  }
  return found;
}

interface ChainStatus {
  headSeq: number;
  headHash: string;
  verified: boolean;
  checkedRecords: number;
  brokenAtSeq: number | null;
  problem: string | null;
  checkedAt: number;
}

const GENESIS = '0'.repeat(64);
const statusCache = new WeakMap<BoxApi, ChainStatus>();

/** Walks the whole chain from record 1 to the head (cached while the head does not move). */
export async function chainStatusOf(box: BoxApi): Promise<ChainStatus> {
  const head = await box.auditHead();
  const cached = statusCache.get(box);
  if (cached && cached.headSeq === head.seq && cached.headHash === head.hash) return cached;
  const status: ChainStatus = { headSeq: head.seq, headHash: head.hash, verified: true, checkedRecords: 0, brokenAtSeq: null, problem: null, checkedAt: box.clock.now() };
  let prev = GENESIS;
  outer: for (let from = 1; from <= head.seq; from += 1_000) {
    const batch = await box.audit(from, 1_000);
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      const { prevHash, hash, ...entry } = r;
      const problem = r.seq !== from + i ? 'gap' : prevHash !== prev ? 'broken link' : auditHash(prev, entry) !== hash ? 'hash mismatch' : null;
      if (problem) {
        Object.assign(status, { verified: false, brokenAtSeq: from + i, problem });
        break outer;
      }
      prev = hash;
      status.checkedRecords++;
    }
    if (batch.length === 0) break;
  }
  if (status.verified && status.checkedRecords !== head.seq) Object.assign(status, { verified: false, brokenAtSeq: status.checkedRecords + 1, problem: 'gap' });
  else if (status.verified && prev !== head.hash) Object.assign(status, { verified: false, brokenAtSeq: head.seq, problem: 'head mismatch' });
  statusCache.set(box, status);
  return status;
}

const ChainStatusRef = builder.objectRef<ChainStatus>('AuditChainStatus').implement({
  description: 'Whether the audit log\'s hash chain is intact from the first record to the head.',
  fields: (t) => ({
    headSeq: t.exposeInt('headSeq'),
    headHash: t.exposeString('headHash'),
    anchor: t.string({ description: 'the head as an anchor to keep off the box: SEQ:HASH (npm run audit:verify -- --anchor)', resolve: (s) => `${s.headSeq}:${s.headHash}` }),
    verified: t.exposeBoolean('verified'),
    checkedRecords: t.exposeInt('checkedRecords'),
    brokenAtSeq: t.exposeInt('brokenAtSeq', { nullable: true }),
    problem: t.exposeString('problem', { nullable: true, description: 'gap, broken link, hash mismatch or head mismatch' }),
    checkedAt: t.expose('checkedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  auditEntries: t.field({
    type: [AuditEntryRef],
    description: 'Audit records newest first, before `beforeSeq`, filtered by action prefix, subject and actor.',
    authScopes: READERS,
    args: {
      action: t.arg.string({ required: false, validate: auditFilterArg }),
      subject: t.arg.string({ required: false, validate: auditFilterArg }),
      actor: t.arg.string({ required: false, validate: auditFilterArg }),
      beforeSeq: t.arg.int({ required: false }),
      limit: t.arg.int({ required: false, defaultValue: 50, validate: auditLimitArg }),
    },
    resolve: (_root, args, { box }) => searchAudit(box, { ...args, limit: args.limit ?? 50 }),
  }),
  auditChain: t.field({
    type: ChainStatusRef,
    authScopes: READERS,
    resolve: (_root, _args, { box }) => chainStatusOf(box),
  }),
}));
