/**
 * The box-API series of bench/pickups.ts in a process of its own (`node --expose-gc --import tsx`):
 * a box's steady state is measured on a heap that holds that box alone, not what the benchmarks
 * before it left behind (10,000 subscriptions, GraphQL servers). Runs `WARM` pickups on a box of
 * its own (JIT warm-up, thrown away), then `N` on a fresh box, and prints their system times as
 * one JSON line.
 */
import { apiOnly } from './pickups.js';

const [warm, count] = process.argv.slice(2).map(Number) as [number, number];
await apiOnly(warm);
const times = await apiOnly(count);
process.stdout.write(`${JSON.stringify({ count, times })}\n`);
