import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SimulatedClock } from '../actors/runtime/clock.js';
import { openI2cBus } from '../drivers/i2c/i2c-bus-adapter.js';
import { createSimulatedLockBank } from '../drivers/i2c/lock-bank.js';
import type { I2cPort } from '../drivers/i2c/port.js';
import type { BoardConfig, Layout } from '../drivers/layout.js';
import { boxKeysOf, resolveConfig } from './config.js';

// `npm run i2c:scan` (built: `node dist/src/i2c-scan.js`): lists the expanders that answer on each
// bus of the layout and compares them with the boards the layout expects. Exit code 1 when a
// board is missing or a bus cannot be opened.

export interface BusScan {
  bus: number;
  /** addresses that acknowledged */
  found: number[];
  /** boards of the layout on this bus that answered */
  present: BoardConfig[];
  /** boards of the layout on this bus that did not */
  missing: BoardConfig[];
  /** addresses that answered but are no board of the layout */
  unexpected: number[];
  /** why the bus could not be scanned */
  error?: string;
}

/** Scans every bus the layout uses, through `open` (a real /dev/i2c-N, or a simulated bus). */
export async function scanLayout(layout: Layout, open: (bus: number) => Promise<I2cPort>): Promise<BusScan[]> {
  const buses = [...new Set(layout.boards.map((b) => b.bus))].sort((a, b) => a - b);
  const out: BusScan[] = [];
  for (const bus of buses) {
    const boards = layout.boards.filter((b) => b.bus === bus);
    let found: number[];
    try {
      const port = await open(bus);
      try {
        found = await port.scan();
      } finally {
        await port.close();
      }
    } catch (error) {
      out.push({ bus, found: [], present: [], missing: boards, unexpected: [], error: (error as Error).message });
      continue;
    }
    out.push({
      bus,
      found,
      present: boards.filter((b) => found.includes(b.address)),
      missing: boards.filter((b) => !found.includes(b.address)),
      unexpected: found.filter((a) => !boards.some((b) => b.address === a)),
    });
  }
  return out;
}

const hex = (a: number) => `0x${a.toString(16).padStart(2, '0')}`;

/** The scan as a person reads it, one bus after the other. */
export function formatScan(scans: readonly BusScan[]): string {
  const lines: string[] = [];
  for (const s of scans) {
    lines.push(`bus ${s.bus} (/dev/i2c-${s.bus}): ${s.error ? `cannot scan: ${s.error}` : `answering ${s.found.map(hex).join(' ') || 'nothing'}`}`);
    for (const b of s.present) lines.push(`  ok       ${b.id} ${b.kind} at ${hex(b.address)}`);
    for (const b of s.missing) lines.push(`  MISSING  ${b.id} ${b.kind} at ${hex(b.address)} does not answer`);
    for (const a of s.unexpected) lines.push(`  unknown  ${hex(a)} answers but is no board of the layout`);
  }
  const missing = scans.reduce((n, s) => n + s.missing.length, 0);
  lines.push(missing === 0 ? 'every board of the layout answers' : `${missing} board(s) of the layout missing`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, simulated: { type: 'boolean', default: false } } });
  const path = values.config ?? process.env.AUSGABEBOX_CONFIG;
  const file = path ? (JSON.parse(readFileSync(resolve(path), 'utf8')) as Record<string, unknown>) : {};
  const config = resolveConfig(boxKeysOf(file));
  if (!config.layout) throw new Error('the configuration has no layout of boards (a bare compartment list runs without I2C)');
  const simulated = values.simulated || config.hardware !== 'i2c';
  const bank = simulated ? createSimulatedLockBank(config.layout, new SimulatedClock(Date.now())) : null;
  const scans = await scanLayout(config.layout, async (bus) => (bank ? bank.buses.get(bus)! : openI2cBus(bus)));
  console.log(`${simulated ? 'simulated buses of the layout' : 'I2C buses'}:\n${formatScan(scans)}`);
  process.exitCode = scans.some((s) => s.missing.length > 0 || s.error) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`${(error as { code?: string }).code ?? 'ERROR'}: ${(error as Error).message}`);
    process.exit(1);
  });
}
