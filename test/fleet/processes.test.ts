import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { startCentral, type Central } from '../../src/fleet/central.js';
import { BIRTH } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { fleetRedis, tempDir, until, type FleetRedis } from './support.js';

// Three boxes as three processes (each its own SQLite file), a central service in this process,
// one real redis-server. One box is killed with SIGKILL and started again on its file.

interface BoxProcess {
  id: string;
  child: ChildProcess;
  lines: string[];
  ask(instruction: string, answer: RegExp): Promise<RegExpExecArray>;
}

function startBoxProcess(dir: string, id: string, url: string): BoxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fleet/box-child.ts', dir, id, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return {
    id,
    child,
    lines,
    async ask(instruction, answer) {
      const from = lines.length;
      child.stdin!.write(`${instruction}\n`);
      return until(`box ${id}: ${instruction}`, () => {
        for (const l of lines.slice(from)) {
          const m = answer.exec(l);
          if (m) return m;
          if (l.startsWith('ERR')) throw new Error(`box ${id}: ${l}`);
        }
        return undefined;
      }, 60_000);
    },
  };
}

const stop = async (p: BoxProcess, signal: NodeJS.Signals = 'SIGTERM') => {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill(signal);
  await exited;
};

const processes = suiteNeeding('fleet of box processes', [REDIS], {} as { redis: FleetRedis; dir: string; boxes: BoxProcess[]; central: Central });

processes.before(async (ctx) => {
  ctx.redis = await fleetRedis();
  ctx.dir = tempDir();
  ctx.central = await startCentral({ redisUrl: ctx.redis.url, blockMs: 100, claimEveryMs: 200 });
  ctx.boxes = ['p1', 'p2', 'p3'].map((id) => startBoxProcess(ctx.dir, id, ctx.redis.url));
  await until('three boxes at the centre', async () => (await ctx.central.boxes()).length === 3 || undefined, 90_000);
});

processes.after(async (ctx) => {
  for (const b of ctx.boxes ?? []) await stop(b, 'SIGKILL');
  await ctx.central?.close();
  await ctx.redis?.dispose();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

processes('registered through the centre, loaded and collected at box process p2: the centre shows COLLECTED', async ({ boxes, central }) => {
  const record = await central.registerPickup('p2', { reference: 'V-PROC-1', documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH }, 30_000);
  assert.is(central.commandState(record), 'DONE');
  const [, status] = (await boxes[1]!.ask('collect V-PROC-1', /^OK collect V-PROC-1 (\S+)$/)) as unknown as [string, string];
  assert.is(status, 'COLLECTED');
  const p = await until('COLLECTED at the centre', async () => ((await central.pickup('V-PROC-1'))?.status === 'COLLECTED' ? central.pickup('V-PROC-1') : undefined), 30_000);
  assert.is(p!.boxId, 'p2');
  const other = await boxes[0]!.ask('collect V-PROC-1', /^OK collect/).then(() => 'collected', (e: Error) => e.message);
  assert.match(String(other), /PICKUP_NOT_FOUND/, 'the other boxes never had it');
});

processes('a box process killed with SIGKILL comes back on its file and the centre gets every event once, in order', async ({ dir, redis, boxes, central }) => {
  const p1 = boxes[0]!;
  for (let n = 0; n < 4; n++) await p1.ask(`register V-CRASH-${n}`, new RegExp(`^OK register V-CRASH-${n} REGISTERED$`));
  await stop(p1, 'SIGKILL');
  const again = startBoxProcess(dir, 'p1', redis.url);
  boxes[0] = again;
  const [, lastText] = (await again.ask('seq', /^SEQ (\d+) (\d+)$/)) as unknown as [string, string];
  const lastSeq = Number(lastText);
  await until('the centre to catch up with p1', async () => ((await central.projection.box('p1'))?.lastSeq ?? 0) >= lastSeq, 60_000);
  const box = (await central.projection.box('p1'))!;
  for (let seq = 1; seq <= box.lastSeq; seq++) assert.is((await central.projection.event('p1', seq))?.id, `p1:${seq}`);
  assert.is(box.highestSeq, box.lastSeq, 'no gap');
  for (let n = 0; n < 4; n++) assert.is((await central.pickup(`V-CRASH-${n}`))?.status, 'REGISTERED');
  const snapshots = [];
  for (let seq = 1; seq <= box.lastSeq; seq++) {
    const e = await central.projection.event('p1', seq);
    if (e?.type === 'box.snapshot') snapshots.push(e);
  }
  assert.is(snapshots.length, 2, 'one snapshot per start');
  assert.equal((snapshots[1]!.data.pickups as Array<{ reference: string }>).map((p) => p.reference).filter((r) => r.startsWith('V-CRASH-')).sort(), ['V-CRASH-0', 'V-CRASH-1', 'V-CRASH-2', 'V-CRASH-3']);
});

processes.run();
