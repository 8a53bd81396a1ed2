/**
 * Scale: memory (RSS, and heap used after GC: children run with --expose-gc) and start-up time of
 * one process holding 50 boxes of 608 compartments (memory storage, device-level simulated
 * hardware), against the same process with 1 box. Each count runs in a fresh child process
 * (bench/scale-child.ts) so neither inherits the other's heap.
 */
import { row, runChild, type BenchContext, type Row } from './lib.js';

interface ScaleResult {
  count: number;
  startupMs: number;
  gcExposed: boolean;
  rssMb: number;
  heapUsedMb: number;
  rssBeforeMb: number;
  heapBeforeMb: number;
  rssDeltaMb: number;
  heapDeltaMb: number;
  compartments: number;
}

async function child(count: number): Promise<ScaleResult> {
  const r = await runChild<ScaleResult>('scale-child.ts', [count], ['--expose-gc']);
  if (r.compartments !== count * 608) throw new Error(`scale child (${count}): expected ${count * 608} compartments, got ${r.compartments}`);
  return r;
}

export async function run({ log }: BenchContext): Promise<Row[]> {
  const boxes = 50;
  // Best of two for the single box: its start-up is short enough for noise to matter.
  const ones = [await child(1), await child(1)];
  const one = ones.reduce((a, b) => (a.startupMs <= b.startupMs ? a : b));
  const many = await child(boxes);
  if (!many.gcExposed) log('scale: --expose-gc was not honoured; heap figures are before GC');
  log(`1 box: ${one.startupMs.toFixed(0)} ms, RSS ${one.rssMb.toFixed(0)} MB, heap ${one.heapUsedMb.toFixed(1)} MB; ${boxes} boxes: ${many.startupMs.toFixed(0)} ms, RSS ${many.rssMb.toFixed(0)} MB, heap ${many.heapUsedMb.toFixed(1)} MB`);
  const B = `scale: ${boxes} boxes × 608 compartments, one process`;
  const ONE = '1 box, same process setup';
  const PER = `1 box × ${boxes}`;
  const perBoxHeap = many.heapDeltaMb / boxes;
  return [
    row(B, 'start-up (all createBox calls)', many.startupMs, 'ms', PER, one.startupMs * boxes, `${(many.startupMs / boxes).toFixed(0)} ms per box (608 actors spawned and committed each); the lone box also pays JIT warm-up, so 50 × 1 overstates`),
    row(B, 'RSS after start-up + GC', many.rssMb, 'MB', ONE, one.rssMb, `both include ${one.rssBeforeMb.toFixed(0)} MB before any box (Node, tsx, modules), paid once per process`),
    row(B, 'heap used after GC', many.heapUsedMb, 'MB', ONE, one.heapUsedMb, `${one.heapBeforeMb.toFixed(1)} MB of heap before any box; ${perBoxHeap.toFixed(2)} MB per box after it`),
    row(B, 'RSS added by the boxes', many.rssDeltaMb, 'MB', PER, one.rssDeltaMb * boxes, 'the first box also pays for lazily compiled code and heap reservation, so 50 × 1 overstates'),
    row(B, 'heap added by the boxes', many.heapDeltaMb, 'MB', PER, one.heapDeltaMb * boxes, `${((perBoxHeap * 2 ** 20) / 608 / 1024).toFixed(1)} kB per compartment (actor cell, ctx, persisted copy, simulated device)`),
  ];
}
