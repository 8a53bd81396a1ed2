import { healthOf } from '../schema/box.js';
import { SYSTEMIC_QUARANTINES, type Box } from './box.js';
import { TokenAuthenticator, type TokenConfig } from './server/auth.js';
import { METRICS_CONTENT_TYPE, metricsFor } from './metrics.js';

// The box's health as `application/health+json` (draft-inadarei-api-health-check): an overall
// pass / warn / fail and one check per part — storage, each I2C bus and board, reader, shredder,
// SMS gateway, failed actors, pickups quarantined alone (warn), the clock. `/health` answers 503 on fail (load balancers take the box
// out), `/health/ready` says whether it should take traffic (started, storage answering, no failed
// actor), `/health/live` only that the process serves. Parts of the box that learn to report their
// own status (storage, actors) plug in through `HealthSources`.

export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface HealthCheck {
  componentId?: string;
  componentType: 'datastore' | 'component' | 'system';
  status: HealthStatus;
  observedValue?: number | string;
  observedUnit?: string;
  output?: string;
  time: string;
}

export interface HealthDocument {
  status: HealthStatus;
  description: string;
  checks: Record<string, HealthCheck[]>;
  /** the summary the `health` query also gives (ok, open and critical alarms, …) */
  [summary: string]: unknown;
}

/** Optional reports a part of the box may give about itself; without them health probes or infers. */
export interface HealthSources {
  storage?: () => Promise<{ status: HealthStatus; output?: string }> | { status: HealthStatus; output?: string };
}

export const HEALTH_CONTENT_TYPE = 'application/health+json';
/** Before this the system clock cannot be right (a Raspberry Pi without RTC boots in 1970 until NTP). */
const EARLIEST_PLAUSIBLE = Date.UTC(2025, 0, 1);
const STORAGE_PROBE_MS = 2_000;

const worst = (statuses: HealthStatus[]): HealthStatus => (statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass');

async function storageCheck(box: Box, sources: HealthSources, time: string): Promise<HealthCheck> {
  if (sources.storage) return { componentType: 'datastore', time, ...(await sources.storage()) };
  // A store that still answers reads can refuse writes (a full disk): the last commit decides.
  const fault = box.supervisor.storageFault();
  if (fault) {
    return { componentType: 'datastore', status: 'fail', output: `commits fail since ${new Date(fault.since).toISOString()} (${fault.reason}); new work is refused until storage takes writes again`, time };
  }
  const started = performance.now();
  try {
    await Promise.race([
      box.persistence.kv.get('health:probe'),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${STORAGE_PROBE_MS} ms`)), STORAGE_PROBE_MS).unref()),
    ]);
    const ms = Math.round(performance.now() - started);
    return { componentType: 'datastore', status: ms > 500 ? 'warn' : 'pass', observedValue: ms, observedUnit: 'ms', time };
  } catch (error) {
    return { componentType: 'datastore', status: 'fail', output: (error as Error).message, time };
  }
}

/** The health document of `box`, as `GET /health` answers it. */
export async function healthDocument(box: Box, sources: HealthSources = {}): Promise<HealthDocument> {
  const time = new Date().toISOString();
  const checks: Record<string, HealthCheck[]> = {};
  checks['storage:responseTime'] = [await storageCheck(box, sources, time)];

  const openAlarms = box.alarms(true);
  const boards = box.config.layout?.boards ?? [];
  const buses = new Map<number, HealthStatus[]>();
  for (const board of boards) {
    const alarm = openAlarms.find((a) => a.key === `board:${board.id}`);
    const status: HealthStatus = alarm ? 'fail' : 'pass';
    checks[`board-${board.id}:status`] = [{ componentId: `${board.kind}@${board.bus}:0x${board.address.toString(16)}`, componentType: 'component', status, ...(alarm ? { output: alarm.code } : {}), time }];
    buses.set(board.bus, [...(buses.get(board.bus) ?? []), status]);
  }
  for (const [bus, statuses] of buses) {
    const failed = statuses.filter((s) => s === 'fail').length;
    const status: HealthStatus = failed === 0 ? 'pass' : failed === statuses.length ? 'fail' : 'warn';
    checks[`i2c-bus-${bus}:boardsAnswering`] = [{ componentType: 'component', status, observedValue: statuses.length - failed, time, ...(failed ? { output: `${failed} of ${statuses.length} boards failed` } : {}) }];
  }

  const devices = box.devices();
  const readerState = devices.reader.state;
  checks['reader:status'] = [{ componentType: 'component', status: readerState === 'failed' ? 'fail' : devices.reader.available ? 'pass' : 'warn', observedValue: readerState, time }];
  const shredderState = devices.shredder.state;
  checks['shredder:status'] = [
    {
      componentType: 'component',
      status: shredderState === 'failed' ? 'fail' : shredderState === 'jammed' || shredderState === 'binFull' ? 'warn' : 'pass',
      observedValue: shredderState,
      time,
    },
  ];
  const pending = box.counts().sms.pending;
  checks['sms-gateway:outboxDepth'] = [{ componentType: 'component', status: pending > 100 ? 'warn' : 'pass', observedValue: pending, time }];
  const failed = box.failures();
  checks['actors:failed'] = [{ componentType: 'system', status: failed.length ? 'fail' : 'pass', observedValue: failed.length, time, ...(failed.length ? { output: failed.map((f) => f.actor).join(', ') } : {}) }];
  // A pickup quarantined alone degrades the box (one citizen is served at the counter), it does not
  // fail it; several at once point at the box itself and fail it. /health is open to anyone: it names compartments, never references (the alarm does).
  const quarantined = box.quarantinedPickups();
  const systemic = quarantined.length >= SYSTEMIC_QUARANTINES;
  const held = quarantined.flatMap((q) => (q.compartmentId ? [q.compartmentId] : []));
  const quarantineOutput =
    `${quarantined.length} pickup(s) refused on their own (PICKUP_FAILED) because handling them kept crashing` +
    (held.length ? `, in ${held.join(', ')}` : '') +
    '; every other pickup is served, the PICKUP_FAILED alarms say what to do' +
    (systemic ? `; ${SYSTEMIC_QUARANTINES} or more point at a fault of the box's software or storage` : '');
  checks['pickups:quarantined'] = [
    {
      componentType: 'system',
      status: systemic ? 'fail' : quarantined.length ? 'warn' : 'pass',
      observedValue: quarantined.length,
      time,
      ...(quarantined.length ? { output: quarantineOutput } : {}),
    },
  ];
  const now = Date.now();
  const boxNow = box.clock.now();
  const clockOk = now >= EARLIEST_PLAUSIBLE;
  checks['clock:plausible'] = [{ componentType: 'system', status: clockOk ? 'pass' : 'fail', observedValue: new Date(boxNow).toISOString(), time, ...(clockOk ? {} : { output: 'the system clock is before 2025: not synchronised (NTP)' }) }];

  const summary = healthOf(box);
  const status = worst([...Object.values(checks).flatMap((c) => c.map((x) => x.status)), summary.ok ? 'pass' : 'fail']);
  return { status, description: `ausgabebox ${box.config.name}`, ...summary, checks };
}

/** Ready for traffic: storage answers and no actor failed for good (what a load balancer or the watchdog asks). */
export async function readiness(box: Box, sources: HealthSources = {}): Promise<{ ready: boolean; reasons: string[] }> {
  const reasons: string[] = [];
  const storage = await storageCheck(box, sources, new Date().toISOString());
  if (storage.status === 'fail') reasons.push(`storage: ${storage.output ?? 'failing'}`);
  for (const f of box.failures()) reasons.push(`actor ${f.actor} failed`);
  return { ready: reasons.length === 0, reasons };
}

export interface OpsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const OPS_PATHS = ['/health', '/health/ready', '/health/live', '/metrics'] as const;

/**
 * The operations endpoints both servers serve beside GraphQL: health (open, like the `health`
 * query), readiness, liveness, and `/metrics`, which needs the monitor role's token.
 */
export function opsRoutes(box: Box, tokens: TokenConfig, sources: HealthSources = {}) {
  const auth = new TokenAuthenticator(tokens, box.config.kiosks[0]!, false);
  const metrics = metricsFor(box);
  const json = (status: number, type: string, value: unknown): OpsResponse => ({ status, headers: { 'content-type': type, 'cache-control': 'no-store' }, body: JSON.stringify(value) });
  return async (method: string | undefined, url: string | undefined, authorization: string | undefined): Promise<OpsResponse | null> => {
    if (method !== 'GET' && method !== 'HEAD') return null;
    const path = (url ?? '').split('?')[0];
    if (path === '/health') {
      const doc = await healthDocument(box, sources);
      return json(doc.status === 'fail' ? 503 : 200, HEALTH_CONTENT_TYPE, doc);
    }
    if (path === '/health/ready') {
      const r = await readiness(box, sources);
      return json(r.ready ? 200 : 503, HEALTH_CONTENT_TYPE, { status: r.ready ? 'pass' : 'fail', ...(r.reasons.length ? { output: r.reasons.join('; ') } : {}) });
    }
    if (path === '/health/live') return json(200, HEALTH_CONTENT_TYPE, { status: 'pass' });
    if (path === '/metrics') {
      const grant = auth.resolve(authorization);
      if (grant?.role !== 'monitor') {
        return { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="ausgabebox metrics"', 'cache-control': 'no-store' }, body: 'the monitor token is needed\n' };
      }
      return { status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }, body: await metrics.text() };
    }
    return null;
  };
}
