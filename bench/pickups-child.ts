/**
 * The box-API series of bench/pickups.ts, each in a process of its own (`node
 * --import tsx`): a box's steady state is measured on a heap that holds that box alone, not what
 * the benchmarks before it left behind (10,000 subscriptions, GraphQL servers).
 *
 *   pickups-child.ts api WARM N     WARM pickups on a box of its own (JIT warm-up, thrown away),
 *                                   then N on a fresh box: their system times and timed
 *                                   stretches, and the garbage collections meanwhile
 *   pickups-child.ts wrong LIVE...  a box per size of live pickups; a warm-up round, then
 *                                   wrong PINs for 20 numbers each, the boxes interleaved
 *
 * Prints one JSON line.
 */
import { collections } from './lib.js';
import { apiOnly, wrongPins } from './pickups.js';

const [mode, ...args] = process.argv.slice(2);
const numbers = args.map(Number);
if (mode === 'api') {
  const [warm, count] = numbers as [number, number];
  await apiOnly(warm);
  const windows: Array<Array<[number, number]>> = [];
  const { result: times, all } = await collections(() => apiOnly(count, windows));
  process.stdout.write(`${JSON.stringify({ times, windows, collections: all })}\n`);
} else if (mode === 'wrong') {
  const sizes = await wrongPins(numbers);
  process.stdout.write(`${JSON.stringify({ sizes })}\n`);
} else throw new Error(`unknown mode ${mode}`);
