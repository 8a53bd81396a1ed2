import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Box } from './box.js';

// Prometheus metrics of one box, fed by its event streams (box events, the audit stream, the
// supervisor's changes) and read from its views at scrape time. Names start with `ausgabebox_`,
// are in base units (seconds), counters end in `_total`, and every label has a bounded set of
// values (statuses, codes, kinds, bus and board ids of the layout, root fields of the schema):
// no reference, phone number, PIN or session id ever becomes a label.

const PICKUP_STATUSES = ['REGISTERED', 'LOADING', 'READY', 'RELEASING', 'COLLECTED', 'LOCKED', 'EXPIRED', 'RETURNED', 'CANCELLED'] as const;
const SESSION_OUTCOMES = ['collected', 'doorNotOpened', 'timeout', 'cancelled', 'locked', 'failed', 'interrupted'] as const;
const AUTH_FAILURE_KINDS = ['pin', 'oldId', 'birthDate', 'throttled', 'pinReused'] as const;
const DOOR_EVENTS = ['opened', 'closed', 'forced', 'leftOpen', 'notOpened'] as const;
const ACTOR_KINDS = ['registry', 'pickup', 'auth', 'allocation', 'compartment', 'reader', 'shredder', 'session', 'kiosk', 'outbox', 'alarms'] as const;

/** A label value from a closed set, or `other`: a value nobody planned for never grows the series. */
const bounded = (value: unknown, allowed: readonly string[]): string => (typeof value === 'string' && allowed.includes(value) ? value : 'other');

/** The content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface BoxMetrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  /** One GraphQL operation ended (`field`: its first root field, bounded by the schema; `ok`: no errors). */
  graphqlOperation(type: string, field: string, ok: boolean): void;
  /** A GraphQL subscription stream of this box started; returns what to call when it ends. */
  subscriptionOpened(): () => void;
  /** A graphql-ws client joined a shared stream of this box (src/server/fanout.ts); returns what to call when it leaves. */
  subscriberJoined(): () => void;
  close(): void;
}

const perBox = new WeakMap<object, BoxMetrics>();

/** The metrics of `box`, created at the first call and shared by every server of the box. */
export function metricsFor(box: Box): BoxMetrics {
  let metrics = perBox.get(box);
  if (!metrics) perBox.set(box, (metrics = createMetrics(box)));
  return metrics;
}

/** A live count for a gauge: `open()` adds one and returns the close that takes it away again (once). */
function liveCount() {
  let live = 0;
  return {
    get value() {
      return live;
    },
    open(): () => void {
      live++;
      let open = true;
      return () => {
        if (open) live--;
        open = false;
      };
    },
  };
}

export function createMetrics(box: Box): BoxMetrics {
  const registry = new Registry();
  const prefix = 'ausgabebox_';
  collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  const liveSubscriptions = liveCount();
  const liveSubscribers = liveCount();
  /** An unlabelled gauge read from the box at scrape time. */
  const gaugeReading = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  /** A counter the box keeps itself (the outbox's), read at scrape time. */
  const counterReading = (name: string, help: string, read: () => number) =>
    new Counter({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  new Gauge({
    name: `${prefix}pickups`,
    help: 'Live pickups by status',
    labelNames: ['status'],
    registers,
    collect() {
      this.reset();
      for (const s of PICKUP_STATUSES) this.set({ status: s }, 0);
      for (const [status, n] of Object.entries(box.counts().pickupsByStatus)) this.inc({ status: bounded(status, PICKUP_STATUSES) }, n);
    },
  });
  const pickupChanges = new Counter({ name: `${prefix}pickup_transitions_total`, help: 'Pickups that entered a status', labelNames: ['status'], registers });
  const sessions = new Counter({ name: `${prefix}sessions_ended_total`, help: 'Kiosk sessions ended, by outcome', labelNames: ['outcome'], registers });
  const authFailures = new Counter({ name: `${prefix}authentication_failures_total`, help: 'Refused authentications at the box, by kind', labelNames: ['kind'], registers });
  const pulses = new Counter({ name: `${prefix}unlock_pulses_total`, help: 'Unlock pulses sent to compartment locks', registers });
  const unlockFailures = new Counter({ name: `${prefix}unlock_failures_total`, help: 'Unlock pulses that failed', registers });
  const doors = new Counter({ name: `${prefix}door_events_total`, help: 'Compartment door events', labelNames: ['event'], registers });
  const restarts = new Counter({ name: `${prefix}actor_restarts_total`, help: 'Actor restarts after a crash, by actor kind', labelNames: ['kind'], registers });
  for (const s of PICKUP_STATUSES) pickupChanges.inc({ status: s }, 0);
  for (const o of SESSION_OUTCOMES) sessions.inc({ outcome: o }, 0);
  for (const k of AUTH_FAILURE_KINDS) authFailures.inc({ kind: k }, 0);
  for (const d of DOOR_EVENTS) doors.inc({ event: d }, 0);
  for (const k of ACTOR_KINDS) restarts.inc({ kind: k }, 0);

  new Gauge({
    name: `${prefix}alarms_open`,
    help: 'Open alarms by code',
    labelNames: ['code', 'severity'],
    registers,
    collect() {
      this.reset();
      for (const a of box.alarms(true)) this.inc({ code: /^[A-Z0-9_]{1,48}$/.test(a.code) ? a.code : 'other', severity: a.severity });
    },
  });
  gaugeReading('sms_outbox_depth', 'SMS waiting in the outbox', () => box.counts().sms.pending);
  counterReading('sms_sent_total', 'SMS handed to the gateway', () => box.counts().sms.sent);
  counterReading('sms_failures_total', 'SMS the gateway refused or that failed for good', () => box.counts().sms.failed);
  new Gauge({
    name: `${prefix}actor_mailbox_depth`,
    help: 'Messages waiting in actor mailboxes, by actor kind',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      // (One pass over the actors, however many pickups are live.)
      const depths = box.supervisor.mailboxesByKind();
      for (const kind of ACTOR_KINDS) this.set({ kind }, depths.get(kind) ?? 0);
    },
  });
  gaugeReading('actors_failed', 'Actors that failed for good', () => box.failures().length);
  gaugeReading('pickups_quarantined', 'Pickups refused on their own (PICKUP_FAILED) because handling them kept crashing', () => box.quarantinedPickups().length);
  gaugeReading(
    'graphql_subscriptions_live',
    'Live GraphQL subscription streams (subscribers of the same document, variables and grant share one over graphql-ws)',
    () => liveSubscriptions.value,
  );
  gaugeReading('graphql_ws_subscribers', 'Clients subscribed over graphql-ws', () => liveSubscribers.value);
  const graphql = new Counter({ name: `${prefix}graphql_operations_total`, help: 'GraphQL operations by type and root field', labelNames: ['type', 'field'], registers });
  const graphqlErrors = new Counter({ name: `${prefix}graphql_errors_total`, help: 'GraphQL operations that ended with errors, by type and root field', labelNames: ['type', 'field'], registers });

  // Storage: how long a commit of an actor's state takes (the journal before any effect runs).
  const commits = new Histogram({
    name: `${prefix}storage_commit_duration_seconds`,
    help: 'Time to commit an actor state to storage',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const persistence = box.persistence as unknown as Record<string, unknown>;
  // Every actor commit (a group of them, one transaction) goes through commit().
  const save = persistence.commit;
  if (typeof save === 'function') {
    persistence.commit = async (...args: unknown[]) => {
      const end = commits.startTimer();
      try {
        return await (save as (...a: unknown[]) => Promise<unknown>).apply(box.persistence, args);
      } finally {
        end();
      }
    };
  }

  // I2C: every transfer on every bus, by bus and by board (the layout's ids; an address no board has is `unknown`).
  const i2cTransfers = new Counter({ name: `${prefix}i2c_transactions_total`, help: 'I2C transfers by bus and board', labelNames: ['bus', 'board'], registers });
  const i2cErrors = new Counter({ name: `${prefix}i2c_errors_total`, help: 'Failed I2C transfers by bus, board and code', labelNames: ['bus', 'board', 'code'], registers });
  const boards = new Map<string, string>();
  for (const b of box.config.layout?.boards ?? []) {
    boards.set(`${b.bus}:${b.address}`, b.id);
    i2cTransfers.inc({ bus: String(b.bus), board: b.id }, 0);
  }
  for (const [bus, port] of box.i2cPorts) {
    const target = port as unknown as Record<string, unknown>;
    for (const method of ['readByte', 'writeByte', 'readWord', 'writeWord', 'readI2cBlock', 'writeI2cBlock', 'receiveByte', 'sendByte']) {
      const original = target[method];
      if (typeof original !== 'function') continue;
      target[method] = async (address: number, ...rest: unknown[]) => {
        const labels = { bus: String(bus), board: boards.get(`${bus}:${address}`) ?? 'unknown' };
        i2cTransfers.inc(labels);
        try {
          return await (original as (...a: unknown[]) => Promise<unknown>).call(port, address, ...rest);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          i2cErrors.inc({ ...labels, code: bounded(code, ['I2C_NACK', 'I2C_TIMEOUT', 'BOARD_MISSING']) });
          throw error;
        }
      };
    }
  }

  const stop = [
    box.events.listen((e) => {
      if (e.type === 'pickup.changed') pickupChanges.inc({ status: bounded(e.status, PICKUP_STATUSES) });
      else if (e.type === 'actor.restarted') restarts.inc({ kind: bounded(String(e.actor ?? '').split('/')[0], ACTOR_KINDS) });
    }),
    box.supervisor.audit.listen((entry) => {
      const detail = entry.detail ?? {};
      switch (entry.action) {
        case 'session.ended':
          return sessions.inc({ outcome: bounded(detail.outcome, SESSION_OUTCOMES) });
        case 'auth.failed':
          return authFailures.inc({ kind: bounded(detail.factor, AUTH_FAILURE_KINDS) });
        case 'auth.throttled':
          return authFailures.inc({ kind: 'throttled' });
        case 'pin.reuseRefused':
          return authFailures.inc({ kind: 'pinReused' });
        case 'unlock.pulsed':
          return pulses.inc();
        case 'unlock.failed':
          return unlockFailures.inc();
        default:
          if (entry.action.startsWith('door.')) doors.inc({ event: bounded(entry.action.slice(5), DOOR_EVENTS) });
      }
    }),
  ];

  return {
    registry,
    text: () => registry.metrics(),
    graphqlOperation(type, field, ok) {
      const labels = { type: bounded(type, ['query', 'mutation', 'subscription']), field: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(field) ? field : 'other' };
      graphql.inc(labels);
      if (!ok) graphqlErrors.inc(labels);
    },
    subscriptionOpened: liveSubscriptions.open,
    subscriberJoined: liveSubscribers.open,
    close() {
      for (const s of stop) s();
      if (typeof save === 'function') persistence.commit = save;
    },
  };
}

/**
 * Counts GraphQL operations by their root fields (a set the schema bounds, unlike client-chosen
 * operation names), with errors, and the live subscriptions: the same for Yoga over HTTP, SSE and
 * graphql-ws, and for mercurius, since all of them execute this schema. Returns the schema.
 */
export function countRootFields(schema: GraphQLSchema): GraphQLSchema {
  const roots: Array<[string, GraphQLObjectType | null | undefined]> = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ];
  for (const [type, root] of roots) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const metricsOf = (context: unknown) => {
        const box = (context as { box?: Box } | undefined)?.box;
        return box ? metricsFor(box) : null;
      };
      const count = (context: unknown, ok: boolean) => metricsOf(context)?.graphqlOperation(type, field.name, ok);
      if (type === 'subscription' && field.subscribe) {
        const subscribe = field.subscribe;
        field.subscribe = async (source, args, context, info) => {
          try {
            const stream = (await subscribe(source, args, context, info)) as AsyncIterableIterator<unknown>;
            count(context, true);
            const metrics = metricsOf(context);
            return metrics ? liveWhileOpen(stream, metrics) : stream;
          } catch (error) {
            count(context, false);
            throw error;
          }
        };
        continue;
      }
      const resolve = field.resolve;
      if (!resolve) continue;
      field.resolve = async (source, args, context, info) => {
        try {
          const value = await resolve(source, args, context, info);
          count(context, true);
          return value;
        } catch (error) {
          count(context, false);
          throw error;
        }
      };
    }
  }
  return schema;
}

/** The same stream, counted as a live subscription from now until it ends or its reader leaves. */
function liveWhileOpen<T>(stream: AsyncIterableIterator<T>, metrics: BoxMetrics): AsyncIterableIterator<T> {
  if (!stream || typeof stream[Symbol.asyncIterator] !== 'function') return stream;
  const end = metrics.subscriptionOpened();
  return {
    next: async () => {
      const r = await stream.next();
      if (r.done) end();
      return r;
    },
    return: async (value?: unknown) => {
      end();
      return stream.return ? stream.return(value as T) : { done: true as const, value: value as T };
    },
    throw: async (error?: unknown) => {
      end();
      if (stream.throw) return stream.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
