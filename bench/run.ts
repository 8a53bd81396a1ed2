/**
 * `npm run bench`: runs every benchmark in order and prints one table (benchmark, figure, value,
 * baseline, baseline value, ratio = value ÷ baseline value, notes). Every baseline is measured in
 * the same run. Writes bench/results.json and bench/RESULTS.md. `BENCH_QUICK=1` is a smoke run
 * with smaller counts (about a minute); the full run takes a few minutes on 2 cores.
 *
 * Only some benchmarks: `npm run bench -- actors graphql` (names as in BENCHMARKS below).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import * as actorIndex from './actor-index.js';
import * as actors from './actors.js';
import * as consolePage from './console.js';
import * as durability from './durability.js';
import * as fanout from './fanout.js';
import * as fleet from './fleet.js';
import * as graphql from './graphql.js';
import * as groupCommit from './group-commit.js';
import * as hardware from './hardware.js';
import { median, nowMs, QUICK, ROOT, type Benchmark, type Row } from './lib.js';
import * as kiosk from './kiosk.js';
import * as kioskPage from './kiosk-page.js';
import * as pickups from './pickups.js';
import * as reader from './reader.js';
import * as scale from './scale.js';
import * as shredder from './shredder.js';

export const BENCHMARKS: Array<[name: string, run: Benchmark]> = [
  ['actors', actors.run],
  ['graphql', graphql.run],
  ['fanout', fanout.run],
  ['pickups', pickups.run],
  ['kiosk', kiosk.run],
  ['kiosk-page', kioskPage.run],
  ['hardware', hardware.run],
  ['reader', reader.run],
  ['shredder', shredder.run],
  ['durability', durability.run],
  ['group-commit', groupCommit.run],
  ['actor-index', actorIndex.run],
  ['scale', scale.run],
  ['fleet', fleet.run],
  ['console', consolePage.run],
];

export interface Results {
  date: string;
  quick: boolean;
  /** pageFaultUs: what the first touch of a fresh memory page costs here (a minor page fault, with the kernel zeroing the page) */
  machine: { cpu: string; cores: number; memoryGb: number; node: string; os: string; pageFaultUs?: number };
  durationS: number;
  timings: Record<string, number>;
  failures: Array<{ benchmark: string; error: string }>;
  rows: Row[];
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(2);
}

const ratioText = (r: number): string => (!Number.isFinite(r) ? '–' : r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toPrecision(2)}×`);

function table(rows: Row[]): string[][] {
  return rows.map((r) => [r.benchmark, r.figure, `${fmt(r.value)} ${r.unit}`, r.baseline, `${fmt(r.baselineValue)} ${r.unit}`, ratioText(r.ratio), r.notes]);
}

const HEAD = ['benchmark', 'figure', 'value', 'baseline', 'baseline value', 'ratio', 'notes'];

function printTable(rows: Row[]): void {
  const cells = table(rows);
  // Notes go on their own indented line: the table stays readable in a terminal.
  const widths = HEAD.slice(0, 6).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.slice(0, 6).map((x, i) => (i === 2 || i === 4 || i === 5 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ');
  console.log(line(HEAD));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  let last = '';
  for (const c of cells) {
    if (c[0] !== last && last) console.log('');
    last = c[0]!;
    console.log(line(c));
    if (c[6]) console.log(`    ↳ ${c[6]}`);
  }
}

/**
 * µs per minor page fault: a fresh 64 MB buffer (the kernel maps its pages on first touch) is
 * touched once per 4 kB page; the median of three. On one virtual machine of this project's kind
 * it was 12 µs, where a bare-metal machine takes well under 1 µs.
 */
function pageFaultMicros(): number | undefined {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const bytes = new Uint8Array(new ArrayBuffer(64 * 2 ** 20));
    const faults = process.resourceUsage().minorPageFault;
    const t0 = nowMs();
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1;
    const ms = nowMs() - t0;
    const n = process.resourceUsage().minorPageFault - faults;
    if (n > 0) runs.push((ms * 1000) / n);
  }
  return runs.length ? median(runs) : undefined;
}

function markdown(results: Results): string {
  const m = results.machine;
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const out = [
    '# Benchmark results',
    '',
    `Measured ${results.date} with \`${results.quick ? 'BENCH_QUICK=1 ' : ''}npm run bench\` in ${results.durationS.toFixed(0)} s.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb.toFixed(1)} GB memory, Node ${m.node}, ${m.os}${m.pageFaultUs === undefined ? '' : `; the first touch of a fresh memory page (a minor page fault) costs ${m.pageFaultUs.toFixed(1)} µs (a collection copying survivors into fresh pages pays it: where it is slow, so are collections)`}.`,
    '',
    'Every baseline is measured in the same run; ratio = value ÷ baseline value (for throughput lower is slower, for latency, time and memory higher is worse).',
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((h, i) => (i === 2 || i === 4 || i === 5 ? '---:' : '---')).join(' | ')} |`,
    ...table(results.rows).map((c) => `| ${c.map(esc).join(' | ')} |`),
    '',
  ];
  if (results.failures.length) {
    out.push('## Failed benchmarks', '', ...results.failures.map((f) => `- **${f.benchmark}**: ${esc(f.error)}`), '');
  }
  out.push('Time per benchmark: ' + Object.entries(results.timings).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ') + '.', '');
  return out.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const selected = only.length ? BENCHMARKS.filter(([name]) => only.includes(name)) : BENCHMARKS;
  const unknown = only.filter((n) => !BENCHMARKS.some(([name]) => name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHMARKS.map(([n]) => n).join(', ')})`);

  const started = nowMs();
  const rows: Row[] = [];
  const failures: Results['failures'] = [];
  const timings: Record<string, number> = {};
  console.error(`ausgabebox benchmarks${QUICK ? ' (BENCH_QUICK=1: smoke run, smaller counts)' : ''}: ${selected.map(([n]) => n).join(', ')}`);
  for (const [name, bench] of selected) {
    const t0 = nowMs();
    console.error(`\n▶ ${name}`);
    try {
      rows.push(...(await bench({ quick: QUICK, log: (msg) => console.error(`  ${name}: ${msg}`) })));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`  ${name} FAILED: ${error instanceof Error ? error.stack : message}`);
      failures.push({ benchmark: name, error: message.split('\n')[0]!.slice(0, 300) });
    }
    timings[name] = (nowMs() - t0) / 1000;
    console.error(`  ${name}: ${timings[name]!.toFixed(1)} s`);
  }

  const cpu = cpus();
  const results: Results = {
    date: new Date().toISOString(),
    quick: QUICK,
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGb: totalmem() / 2 ** 30, node: process.version, os: `${platform()} ${release()}`, pageFaultUs: pageFaultMicros() },
    durationS: (nowMs() - started) / 1000,
    timings,
    failures,
    rows,
  };
  console.log('');
  printTable(rows);
  console.log(`\n${rows.length} figures in ${results.durationS.toFixed(0)} s on ${results.machine.cpu} (${results.machine.cores} cores, Node ${process.version}); ratio = value ÷ baseline value.`);
  if (failures.length) console.log(`FAILED: ${failures.map((f) => `${f.benchmark} (${f.error})`).join('; ')}`);
  // Only a full run replaces the committed results; a partial or quick one goes to bench/.scratch.
  const partial = QUICK || only.length > 0;
  const out = process.env.BENCH_OUT_DIR ?? join(ROOT, 'bench', partial ? '.scratch' : '');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(out, 'RESULTS.md'), markdown(results));
  console.log(`wrote ${join(out, 'results.json')} and ${join(out, 'RESULTS.md')}`);
  // Servers and sockets are closed; exit anyway so a stray handle cannot hold the run open.
  process.exit(failures.length ? 1 : 0);
}

await main();
