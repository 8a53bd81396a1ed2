/**
 * The measured side of bench/scale.ts, in a fresh process (`node --expose-gc --import tsx`):
 * creates `N` boxes of 608 compartments (memory storage, device-level simulated hardware) and
 * prints start-up time and memory as one JSON line.
 */
import { createBox, type Box } from '../src/box.js';
import { benchCompartments } from './lib.js';

const count = Number(process.argv[2] ?? 1);
const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) for (let i = 0; i < 3; i++) g();
};
const compartments = benchCompartments(608);
gc();
const before = process.memoryUsage();
const boxes: Box[] = [];
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  boxes.push(await createBox({ name: `box-${i}`, storage: 'memory:', compartments, hardware: 'simulated', hoursPreset: 'always' }));
}
const startupMs = performance.now() - t0;
gc();
const after = process.memoryUsage();
process.stdout.write(
  JSON.stringify({
    count,
    startupMs,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    rssMb: after.rss / 2 ** 20,
    heapUsedMb: after.heapUsed / 2 ** 20,
    rssBeforeMb: before.rss / 2 ** 20,
    heapBeforeMb: before.heapUsed / 2 ** 20,
    rssDeltaMb: (after.rss - before.rss) / 2 ** 20,
    heapDeltaMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    compartments: boxes.reduce((n, b) => n + b.compartments().length, 0),
  }) + '\n',
);
for (const b of boxes) await b.close();
process.exit(0);
