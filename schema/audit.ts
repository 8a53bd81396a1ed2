import type { AuditRecord } from '../src/persistence/keyv-persistence.js';
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
