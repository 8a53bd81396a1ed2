import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { startFleetLink, type FleetLink, type FleetLinkOptions } from '../../src/fleet/box-link.js';
import { demoCompartments } from '../../src/config.js';
import { MONDAY_10AM, testBox, type TestBox } from '../helpers.js';
import { freePort, launchRedis } from '../persistence/redis-server.js';

/** A real redis-server that can be stopped and started again on the same port and data (AOF). */
export interface FleetRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function fleetRedis(): Promise<FleetRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-fleet-redis-'));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = await launchRedis(port, dir);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await exited;
    child = null;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A box on its own SQLite file (a simulated clock, simulated devices, open all day) linked to the fleet. */
export interface FleetBoxUnderTest extends TestBox {
  id: string;
  link: FleetLink;
  relink(extra?: Partial<FleetLinkOptions>): Promise<FleetLink>;
}

export async function fleetBox(id: string, dir: string, url: string, extra: Partial<FleetLinkOptions> = {}): Promise<FleetBoxUnderTest> {
  const t = await testBox(
    { storage: `sqlite://${join(dir, `${id}.sqlite`)}`, name: `Box ${id}`, hoursPreset: 'always', compartments: demoCompartments(8) },
    { clock: new SimulatedClock(MONDAY_10AM), generatePin: () => '246810' },
  );
  const options: FleetLinkOptions = { url, boxId: id, retryBaseMs: 20, retryMaxMs: 200, heartbeatMs: 100, commandBlockMs: 100, ...extra };
  const link = await startFleetLink(t.box, options);
  const under: FleetBoxUnderTest = {
    ...t,
    id,
    link,
    async relink(more = {}) {
      under.link = await startFleetLink(t.box, { ...options, ...more });
      return under.link;
    },
  };
  return under;
}

export const tempDir = () => mkdtempSync(join(tmpdir(), 'ausgabebox-fleet-'));

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
