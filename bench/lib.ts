/**
 * Shared pieces of the benchmarks: the row every benchmark returns, statistics, the benchmark
 * box layout, tokens, a small GraphQL client and autocannon in a second process.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { demoLayout, type Layout } from '../drivers/layout.js';
import type { CompartmentConfig } from '../src/config.js';

export const QUICK = process.env.BENCH_QUICK === '1';
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One line of the result table. `ratio` is always value ÷ baseline value. */
export interface Row {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  /** one line: why the figure is far from its baseline, or how it was measured */
  notes: string;
}

export interface BenchContext {
  quick: boolean;
  log: (msg: string) => void;
}

export type Benchmark = (ctx: BenchContext) => Promise<Row[]>;

export function row(benchmark: string, figure: string, value: number, unit: string, baseline: string, baselineValue: number, notes = ''): Row {
  return { benchmark, figure, value, unit, baseline, baselineValue, ratio: baselineValue === 0 ? NaN : value / baselineValue, notes };
}

// --- statistics -----------------------------------------------------------------------------

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export const nowMs = (): number => performance.now();

/** Monotonic time shared by every process on the machine (CLOCK_MONOTONIC), in ms. */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** A garbage collection V8 reported: when it began (performance.now() time), its pause, and whether it was a scavenge (young generation). */
export interface Collection {
  start: number;
  ms: number;
  scavenge: boolean;
}

/** The garbage collections V8 reported while `fn` ran: young-generation ones (scavenges) and the rest, each as its pause in ms, and all of them with their start. */
export async function collections<T>(fn: () => Promise<T>): Promise<{ result: T; scavenges: number[]; others: number[]; all: Collection[] }> {
  const all: Collection[] = [];
  const take = (entries: PerformanceEntry[]) => {
    for (const e of entries) all.push({ start: e.startTime, ms: e.duration, scavenge: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR });
  };
  const observer = new PerformanceObserver((list) => take(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  try {
    const result = await fn();
    // Entries reach the observer from a task of their own after the collection: one more turn of
    // the event loop, then what is still queued is taken.
    await new Promise((resolve) => setImmediate(resolve));
    take(observer.takeRecords());
    return { result, scavenges: all.filter((c) => c.scavenge).map((c) => c.ms), others: all.filter((c) => !c.scavenge).map((c) => c.ms), all };
  } finally {
    observer.disconnect();
  }
}

// --- the benchmark box ------------------------------------------------------------------------

/**
 * demoLayout(n) with ids the configuration accepts. demoLayout names columns past Z "AA01", and
 * resolveConfig only takes one letter and 2–3 digits, so a 608-compartment demo layout is refused;
 * here column c, row r becomes `<letter c mod 26><c div 26><r:2>` (A001…Z008, A101…, B201…).
 */
export function benchLayout(n: number): Layout {
  const layout = demoLayout(n);
  const compartments = layout.compartments.map((c, k) => {
    const column = Math.floor(k / 8);
    const id = `${String.fromCharCode(65 + (column % 26))}${Math.floor(column / 26)}${String((k % 8) + 1).padStart(2, '0')}`;
    return { ...c, id };
  });
  return { ...layout, compartments };
}

export function benchCompartments(n: number): CompartmentConfig[] {
  return benchLayout(n).compartments.map((c) => ({ id: c.id, size: c.size, accessible: c.accessible }));
}

/** Saturday 23:30: proves the 24/7 preset, whatever the clock says. */
export const SIM_START = Date.UTC(2026, 10, 21, 22, 30, 0);

export const TOKENS = {
  kiosk: 'bench-kiosk-token-00000001',
  staff: { anna: 'bench-staff-token-00000002' },
  integration: 'bench-integration-token-03',
  monitor: 'bench-monitor-token-000004',
  harness: 'bench-harness-token-000005',
};

// --- a small GraphQL client over keep-alive HTTP ----------------------------------------------

export interface GqlReply<T = any> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export class GqlClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly target: URL;
  constructor(url: string) {
    this.target = new URL(url);
  }

  query<T = any>(query: string, variables: Record<string, unknown> | undefined, token: string): Promise<GqlReply<T>> {
    const body = JSON.stringify({ query, variables });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GqlReply<T>);
            } catch (e) {
              reject(e);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Like `query`, but throws on any GraphQL error. */
  async must<T = any>(query: string, variables: Record<string, unknown> | undefined, token: string): Promise<T> {
    const r = await this.query<T>(query, variables, token);
    if (r.errors?.length || !r.data) throw new Error(`GraphQL error: ${JSON.stringify(r.errors ?? r).slice(0, 300)}`);
    return r.data;
  }

  close(): void {
    this.agent.destroy();
  }
}

// --- autocannon in a second process ------------------------------------------------------------

export interface CannonOptions {
  url: string;
  /** `[<n>]` in the body becomes a unique number per request */
  body: string;
  token: string;
  connections: number;
  /** seconds; ignored when `amount` is set */
  duration?: number;
  amount?: number;
}

export interface CannonResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
}

/**
 * Runs a bench script (`bench/<script>`) in a process of its own (`node [flags] --import tsx`) and
 * resolves with the JSON of the last line it prints.
 */
export function runChild<T>(script: string, args: Array<string | number>, flags: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', join(ROOT, 'bench', script), ...args.map(String)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as T);
      } catch (e) {
        reject(new Error(`${script} ${args.join(' ')} exited ${code}: ${(e as Error).message} ${err.slice(0, 500)} ${out.slice(0, 300)}`));
      }
    });
  });
}

/** Runs autocannon in its own process (bench/cannon.ts), so the load generator does not share our event loop. */
export async function autocannon(o: CannonOptions): Promise<CannonResult> {
  const j = await runChild<any>('cannon.ts', [JSON.stringify(o)]);
  const durationS = j.duration as number;
  return {
    requestsPerSec: o.amount ? j.requests.total / durationS : j.requests.average,
    p50: j.latency.p50,
    p99: j.latency.p99,
    total: j.requests.total,
    non2xx: j.non2xx,
    errors: j.errors,
    timeouts: j.timeouts,
    durationS,
  };
}

/** Runs `fn` and passes through its value, logging how long it took. */
export async function timed<T>(log: (m: string) => void, label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = nowMs();
  const v = await fn();
  log(`${label}: ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  return v;
}
