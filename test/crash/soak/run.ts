/**
 * The crash soak: one box process at a time on one SQLite file, each killed with SIGKILL at a
 * seeded point (inside commits, around pulses, around SMS sends, on a timer), the next one
 * recovering from what the last left. After every kill the store and the ledger are checked;
 * every `deepEvery` kills and at the end a deep check runs on a copy (see deep-check.ts).
 * `npm run soak` (scripts/soak.ts) and the CI slice (test/crash/soak.test.ts) both run this.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storedPickups } from '../../support/committed.js';
import { auditHash, openPersistence } from '../../../src/persistence/keyv-persistence.js';
import { deepCheck } from './deep-check.js';
import { apply, emptyWorld, KILL_KINDS, killPlan, Ledger, saveWorld, seeded, type KillKind, type KillPlan, type World } from './world.js';

export interface SoakOptions {
  kills: number;
  seed: number;
  /** where the files go (a fresh temp dir when absent; removed at the end unless `keep`) */
  dir?: string;
  keep?: boolean;
  /** a deep check every this many kills (and always at the end) */
  deepEvery?: number;
  /** no new kill after this many minutes: the soak ends with what it has (its final deep check still runs) */
  maxMinutes?: number;
  /** a box process still alive after this long is killed by the runner (counted as `guard`) */
  guardMs?: number;
  log?: (line: string) => void;
}

/** What the soak counts. Every count from `lost` down must be 0. */
export interface SoakCounts {
  seed: number;
  kills: number;
  byKind: Record<KillKind | 'guard', number>;
  deepChecks: number;
  registered: number;
  pulses: number;
  intents: number;
  sms: number;
  collected: number;
  restartMsP50: number;
  restartMsMax: number;
  /** acknowledged registrations missing from the store, acknowledged cancellations undone */
  lost: number;
  /** pickups in a non-final state with no progress after recovery or expiry, or no API way out */
  stuck: number;
  /** an operation whose door opened twice, a session that unlocked twice */
  doubleOpenings: number;
  /** a citizen found another pickup's document behind the door their PIN opened */
  wrongPerson: number;
  /** a kiosk that refused a new session after a restart */
  deadKiosks: number;
  /** compartments never assignable again */
  lostCompartments: number;
  /** a document put into, or a compartment given out while holding, another document */
  assignedWhileHolding: number;
  /** pulses beyond the journaled intents of their compartment */
  pulsesOverIntents: number;
  /** audit records whose hash or link does not check out */
  auditBroken: number;
  /** requests that got no answer until their ask timed out */
  unanswered: number;
  /** after recovery, a live PIN without its hash in the auth actor, or a hash that outlived its PIN */
  pinDrift: number;
  /** box processes that ended other than by SIGKILL */
  crashed: number;
  /** the first findings, with the run that showed them */
  findings: string[];
  durationS: number;
}

export const MUST_BE_ZERO = ['lost', 'stuck', 'doubleOpenings', 'wrongPerson', 'deadKiosks', 'lostCompartments', 'assignedWhileHolding', 'pulsesOverIntents', 'auditBroken', 'unanswered', 'pinDrift', 'crashed'] as const;

const CHILD = join(import.meta.dirname, 'child.ts');
/** The box process as one bundle: it starts in half the CPU time of loading every module through tsx. */
const BUNDLE = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.cache', 'ausgabebox', `soak-child-${process.pid}.mjs`);

async function bundleChild(): Promise<void> {
  const { build } = await import('esbuild');
  await build({ entryPoints: [CHILD], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: BUNDLE, logLevel: 'warning' });
}

interface ChildEnd {
  signal: NodeJS.Signals | null;
  code: number | null;
  byRunner: 'timer' | 'guard' | null;
  stderr: string;
}

function runChild(dir: string, run: number, seed: number, plan: KillPlan, guardMs: number): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUNDLE, dir, String(run), String(seed), plan.kind, String(plan.n)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let byRunner: ChildEnd['byRunner'] = null;
    let timer: NodeJS.Timeout | null = null;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (plan.kind === 'timer' && !timer && chunk.toString().includes('ready')) {
        timer = setTimeout(() => {
          byRunner ??= 'timer';
          child.kill('SIGKILL');
        }, plan.n);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    const guard = setTimeout(() => {
      byRunner ??= 'guard';
      child.kill('SIGKILL');
    }, guardMs);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      resolve({ code, signal, byRunner, stderr });
    });
  });
}

export async function runSoak(opts: SoakOptions): Promise<SoakCounts> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  await bundleChild();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ausgabebox-soak-'));
  mkdirSync(dir, { recursive: true });
  const ledgerFile = join(dir, 'ledger.log');
  const worldFile = join(dir, 'world.json');
  const storage = `sqlite://${join(dir, 'box.sqlite')}`;
  const deepEvery = opts.deepEvery ?? 25;
  const random = seeded(opts.seed);
  const world: World = emptyWorld(Date.UTC(2026, 10, 23, 8, 0, 0));
  const counts: SoakCounts = {
    seed: opts.seed,
    kills: 0,
    byKind: Object.fromEntries([...KILL_KINDS, 'guard'].map((k) => [k, 0])) as SoakCounts['byKind'],
    deepChecks: 0,
    registered: 0,
    pulses: 0,
    intents: 0,
    sms: 0,
    collected: 0,
    restartMsP50: 0,
    restartMsMax: 0,
    lost: 0,
    stuck: 0,
    doubleOpenings: 0,
    wrongPerson: 0,
    deadKiosks: 0,
    lostCompartments: 0,
    assignedWhileHolding: 0,
    pulsesOverIntents: 0,
    auditBroken: 0,
    unanswered: 0,
    pinDrift: 0,
    crashed: 0,
    findings: [],
    durationS: 0,
  };
  const finding = (run: number, what: string) => {
    if (counts.findings.length < 40) counts.findings.push(`run ${run}: ${what}`);
    log(`  ! run ${run}: ${what}`);
  };

  // What the checks accumulate over the whole soak.
  let ledgerOffset = 0;
  let auditSeq = 0;
  let auditHash_ = '0'.repeat(64);
  const registered = new Set<string>();
  const cancelled = new Set<string>();
  const pulses = new Map<string, number>();
  const intents = new Map<string, number>();
  const opened = new Map<string, number>();
  const sessionIntents = new Map<string, number>();
  const readyTimes: number[] = [];

  const deep = async (run: number) => {
    const f = await deepCheck(dir, world, String(run));
    counts.deepChecks++;
    counts.stuck += f.stuck.length;
    counts.lostCompartments += f.lost.length;
    counts.deadKiosks += f.deadKiosks.length;
    counts.assignedWhileHolding += f.assignedWhileHolding.length;
    for (const s of f.stuck) finding(run, `deep check: stuck ${s}`);
    for (const s of f.lost) finding(run, `deep check: lost compartment ${s}`);
    for (const s of f.deadKiosks) finding(run, `deep check: dead kiosk ${s}`);
    for (const s of f.assignedWhileHolding) finding(run, `deep check: ${s}`);
  };

  for (let run = 0; run < opts.kills; run++) {
    if (opts.maxMinutes !== undefined && performance.now() - t0 > opts.maxMinutes * 60_000) {
      log(`  time limit of ${opts.maxMinutes} min reached: stopped after ${run} of ${opts.kills} kills`);
      break;
    }
    // Downtime: time moves on; a person at an open door may have closed it meanwhile.
    world.now += 5_000 + Math.floor(random() * 60_000);
    const downtime = new Ledger(ledgerFile, run, () => world.now);
    for (const [c, door] of Object.entries(world.doors)) {
      if (door === 'open' && random() < 0.6) {
        downtime.append({ k: 'door', c, door: 'closed', downtime: true });
        world.doors[c] = 'closed';
      }
    }
    downtime.close();
    if (existsSync(ledgerFile)) ledgerOffset = statSync(ledgerFile).size; // what the runner wrote itself is applied already
    saveWorld(worldFile, world);

    const plan = killPlan(random);
    const childSeed = Math.floor(random() * 2 ** 31);
    const end = await runChild(dir, run, childSeed, plan, opts.guardMs ?? 10_000);
    counts.kills++;
    if (end.signal === 'SIGKILL') counts.byKind[end.byRunner === 'guard' ? 'guard' : plan.kind]++;
    else {
      counts.crashed++;
      finding(run, `box process ended with code ${end.code} (${plan.kind}:${plan.n}): ${end.stderr.trim().split('\n').slice(-6).join(' | ')}`);
    }

    // The ledger: what people saw and did.
    const read = Ledger.read(ledgerFile, ledgerOffset);
    const entries = read.entries;
    ledgerOffset = read.offset;
    for (const e of entries) {
      switch (e.k) {
        case 'ready':
          readyTimes.push(e.ms);
          break;
        case 'pulse':
          pulses.set(e.c, (pulses.get(e.c) ?? 0) + 1);
          counts.pulses++;
          break;
        case 'sms':
          counts.sms++;
          break;
        case 'ack':
          if (e.op === 'register') registered.add(e.ref);
          if (e.op === 'cancel') cancelled.add(e.ref);
          break;
        case 'door':
          if (e.put && (world.contents[e.c] ?? []).length > 0) {
            counts.assignedWhileHolding++;
            finding(run, `${e.put} put into ${e.c}, which holds ${world.contents[e.c]!.join(', ')}`);
          }
          if (e.take?.by === 'citizen') {
            if (e.take.got.some((r) => r !== e.take!.want)) {
              counts.wrongPerson++;
              finding(run, `the citizen of ${e.take.want} found ${e.take.got.join(', ')} in ${e.c}`);
            }
            if (e.take.got.includes(e.take.want ?? '')) counts.collected++;
          }
          break;
        case 'unanswered':
          counts.unanswered++;
          finding(run, `${e.what} got no answer before its ask timed out`);
          break;
        case 'check':
          counts.deadKiosks += e.deadKiosks.length;
          counts.stuck += e.stuck.length;
          counts.lostCompartments += e.lost.length;
          for (const s of e.deadKiosks) finding(run, `after recovery: dead kiosk ${s}`);
          for (const s of e.stuck) finding(run, `after recovery: stuck ${s}`);
          for (const s of e.lost) finding(run, `after recovery: compartment ${s}`);
          counts.pinDrift += e.pins?.length ?? 0;
          for (const s of e.pins ?? []) finding(run, `after recovery: ${s}`);
          break;
        default:
          break;
      }
      apply(world, e);
    }
    // The store as the kill left it: every acknowledged change is there, the audit chain holds.
    const persistence = await openPersistence(storage);
    try {
      const actors = await persistence.loadActors();
      const { pickups, byReference } = storedPickups(actors);
      for (const ref of registered) {
        const id = byReference[ref];
        if (!id) {
          counts.lost++;
          finding(run, `acknowledged registration ${ref} is not in the store`);
          registered.delete(ref);
        }
      }
      for (const ref of cancelled) {
        const p = pickups[byReference[ref] ?? ''];
        if (p && p.status !== 'CANCELLED') {
          counts.lost++;
          finding(run, `acknowledged cancellation of ${ref} undone: ${p.status}`);
        }
        if (!p || p.endedAt !== null) cancelled.delete(ref);
      }
      const head = await persistence.auditHead();
      for (let from = auditSeq + 1; from <= head.seq; from += 5_000) {
        for (const a of await persistence.readAudit(from, 5_000)) {
          const { hash, prevHash, ...entry } = a;
          if (prevHash !== auditHash_ || auditHash(prevHash, entry) !== hash || a.seq !== auditSeq + 1) {
            counts.auditBroken++;
            finding(run, `audit record ${a.seq} does not link or hash`);
          }
          auditSeq = a.seq;
          auditHash_ = hash;
          if (a.action === 'unlock.intent') {
            counts.intents++;
            intents.set(String(a.subject), (intents.get(String(a.subject)) ?? 0) + 1);
            const cause = String(a.detail?.cause);
            if (cause.startsWith('session:')) {
              const n = (sessionIntents.get(cause) ?? 0) + 1;
              sessionIntents.set(cause, n);
              if (n === 2) {
                counts.doubleOpenings++;
                finding(run, `${cause} unlocked twice`);
              }
            }
          }
          if (a.action === 'door.opened') {
            const op = String(a.detail?.op);
            const n = (opened.get(op) ?? 0) + 1;
            opened.set(op, n);
            if (n === 2) {
              counts.doubleOpenings++;
              finding(run, `operation ${op} opened twice`);
            }
          }
        }
      }
    } finally {
      await persistence.close();
    }
    let over = 0;
    for (const [c, n] of pulses) over += Math.max(0, n - (intents.get(c) ?? 0));
    if (over > counts.pulsesOverIntents) finding(run, `${over} pulses without a journaled intent`);
    counts.pulsesOverIntents = Math.max(counts.pulsesOverIntents, over);

    if ((run + 1) % deepEvery === 0 && run + 1 < opts.kills) await deep(run);
    if ((run + 1) % 50 === 0 || run + 1 === opts.kills) {
      log(`  ${run + 1}/${opts.kills} kills, ${registered.size} acknowledged pickups, ${counts.pulses} pulses, ${counts.intents} intents, ${Math.round((performance.now() - t0) / 1000)} s`);
    }
  }
  await deep(opts.kills);

  counts.registered = registered.size;
  const sorted = [...readyTimes].sort((a, b) => a - b);
  counts.restartMsP50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
  counts.restartMsMax = sorted.at(-1) ?? 0;
  counts.durationS = (performance.now() - t0) / 1000;
  rmSync(BUNDLE, { force: true });
  if (!opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
  return counts;
}

/** The counts as the soak prints them. */
export function formatCounts(c: SoakCounts): string[] {
  const kinds = Object.entries(c.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `seed ${c.seed}: ${c.kills} kills (${kinds}) in ${c.durationS.toFixed(0)} s, ${c.deepChecks} deep checks`,
    `work: ${c.registered} pickups acknowledged, ${c.collected} collected, ${c.pulses} pulses, ${c.intents} journaled intents, ${c.sms} SMS; restart to ready p50 ${c.restartMsP50} ms, max ${c.restartMsMax} ms`,
    ...MUST_BE_ZERO.map((k) => `${k.padEnd(22)} ${c[k]}`),
  ];
}
