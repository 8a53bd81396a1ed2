import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { healthDocument, readiness } from '../../src/health.js';
import { openPersistence, type PersistenceOptions } from '../../src/persistence/keyv-persistence.js';
import { answerBirthDate, authenticate, lastPin, readyPickup, register, testBox } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { freePort, launchRedis, startRedis, type RedisServer } from './redis-server.js';
import { rejectionCode } from '../domain/assert-code.js';

// The box on a real redis-server: a server that would lose writes on restart is refused unless
// the operator says otherwise; an outage fails requests at once with STORAGE_UNAVAILABLE and
// fails health, and the box takes work again when Redis returns; claims of two boxes on one
// server are kept apart.

const test = suiteNeeding('storage on Redis', [REDIS]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The store on `redis` with a short command timeout, which also bounds the first connection: on a
 * loaded machine that can take longer, so the opening (not what these tests are about) is tried
 * three times. Should it still fail, the server is stopped before the error goes on: a test that
 * fails here must not leave a redis-server keeping the file from ending.
 */
async function openShort(redis: RedisServer, options: PersistenceOptions) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openPersistence(redis.url, options);
    } catch (error) {
      if (attempt < 3 && (error as { code?: unknown }).code === 'STORAGE_UNAVAILABLE') continue;
      await redis.stop();
      throw error;
    }
  }
}

test('a Redis without an fsynced append-only file is refused with STORAGE_NOT_DURABLE, saying how to run it', async () => {
  const redis = await startRedis({ durable: false });
  try {
    let error: unknown = null;
    try {
      await testBox({ storage: redis.url });
    } catch (e) {
      error = e;
    }
    assert.ok(error, 'the box did not start');
    assert.is((error as { code?: string }).code, 'STORAGE_NOT_DURABLE');
    assert.match((error as Error).message, /appendonly is "no"/);
    assert.match((error as Error).message, /--appendonly yes --appendfsync always/);
    assert.match((error as Error).message, /storageAllowNonDurable/);
  } finally {
    await redis.stop();
  }
});

test('with storageAllowNonDurable the box starts on it, with a warning in the log', async () => {
  const redis = await startRedis({ durable: false });
  const logs: Array<{ level: string; msg: string }> = [];
  try {
    const t = await testBox({ storage: redis.url, storageAllowNonDurable: true }, { log: (level, msg) => logs.push({ level, msg }) });
    await register(t.box, 'V-ND-1');
    assert.ok(t.box.pickup('V-ND-1'));
    const warning = logs.find((l) => l.level === 'warn' && /does not persist every write/.test(l.msg));
    assert.ok(warning, 'a warning says the store is not durable');
    assert.match(warning!.msg, /storageAllowNonDurable/);
    await t.box.close();
  } finally {
    await redis.stop();
  }
});

test('Redis stopped mid-pickup: requests fail at once with STORAGE_UNAVAILABLE, health fails; when Redis returns the pickup goes on and nothing is lost', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-redis-outage-'));
  let server: ChildProcess = await launchRedis(port, dir);
  const stop = async () => {
    // (A server that is gone already would never say so again: waiting for it would end the run silently.)
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  };
  const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const t = await testBox({ storage: `redis://127.0.0.1:${port}` }, { log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }) });
  let closed = false;
  try {
    const { pin, compartmentId } = await readyPickup(t, 'V-OUT-1');
    await register(t.box, 'V-OUT-2');

    await stop();
    const started = performance.now();
    assert.is(await rejectionCode(t.box.startSession()), 'STORAGE_UNAVAILABLE', 'the kiosk is told at once');
    const firstMs = performance.now() - started;
    assert.ok(firstMs < 2_500, `the first refused request took ${Math.round(firstMs)} ms (no hanging)`);
    const again = performance.now();
    assert.is(await rejectionCode(register(t.box, 'V-OUT-3')), 'STORAGE_UNAVAILABLE', 'new work is refused');
    assert.ok(performance.now() - again < 100, 'while storage fails, refused without trying');
    assert.is(t.box.storageHealthy(), false);
    const down = await healthDocument(t.box);
    assert.is(down.status, 'fail', 'health fails');
    assert.is(down.checks['storage:responseTime']![0]!.status, 'fail');
    assert.ok(logs.some((l) => l.level === 'error' && /storage failed/.test(l.msg)), 'the log says storage failed');

    server = await launchRedis(port, dir);
    // The client reconnects in the background; the box's probe (every second of its clock) finds it.
    for (let i = 0; i < 100 && !t.box.storageHealthy(); i++) {
      await sleep(100);
      await t.box.advance(1_000);
    }
    assert.is(t.box.storageHealthy(), true, 'storage is back within 10 s');
    assert.is((await healthDocument(t.box)).checks['storage:responseTime']![0]!.status === 'fail', false, 'health passes storage again');
    assert.ok(t.box.pickup('V-OUT-2'), 'the acknowledged registration is still there');

    // The pickup goes on: the citizen's PIN opens the compartment.
    const sessionId = await authenticate(t, pin);
    await answerBirthDate(t, sessionId);
    assert.ok(['unlocking', 'open'].includes(t.box.compartment(compartmentId)!.state), 'the door is unlocked for the citizen');
    assert.is(lastPin(t), pin, 'no second PIN was needed');
    await t.box.close();
    closed = true;

    // A restart finds both pickups (Redis kept them on disk across its own restart).
    const restarted = await testBox({ storage: `redis://127.0.0.1:${port}` });
    assert.ok(restarted.box.pickup('V-OUT-1'));
    assert.ok(restarted.box.pickup('V-OUT-2'));
    assert.is(restarted.box.pickup('V-OUT-3'), undefined, 'the refused one was not half-written');
    await restarted.box.close();
  } finally {
    if (!closed) await t.box.close().catch(() => {});
    await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a box cannot start while Redis does not answer: STORAGE_UNAVAILABLE within seconds', async () => {
  const port = await freePort();
  const started = performance.now();
  assert.is(await rejectionCode(openPersistence(`redis://127.0.0.1:${port}`)), 'STORAGE_UNAVAILABLE');
  assert.ok(performance.now() - started < 8_000);
});

test('a commit reaches Redis as one MULTI/EXEC: all of its keys or none', async () => {
  const redis = await startRedis();
  try {
    const p = await openPersistence(redis.url, { namespace: 'atomic' });
    const { createClient } = await import('@redis/client');
    const spy = createClient({ url: redis.url });
    await spy.connect();
    const execs = async () => Number(/cmdstat_exec:calls=(\d+)/.exec(await spy.info('commandstats'))?.[1] ?? 0);
    try {
      const before = await execs();
      const actors = ['a/1', 'a/2', 'a/3'].map((address) => ({ address, record: { kind: 'k', ctx: { n: 1 }, timers: [], status: 'active' as const } }));
      await p.commit({ actors, audit: [{ action: 'x', at: 1, by: 'a/1', causation: null }] });
      assert.is((await execs()) - before, 1, 'one transaction for three actors, their index and an audit record');
      const loaded = await p.loadActors();
      assert.equal([...loaded.keys()].sort(), ['a/1', 'a/2', 'a/3'], 'keyv reads back what the transaction wrote');
      assert.equal(loaded.get('a/2')!.ctx, { n: 1 });
      assert.is((await p.readAudit())[0]!.action, 'x');
    } finally {
      await spy.close();
      await p.close();
    }
  } finally {
    await redis.stop();
  }
});

test('a Redis that does not answer its durability check in time is unreachable (STORAGE_UNAVAILABLE), not "not durable"', async () => {
  const redis = await startRedis();
  const { createClient } = await import('@redis/client');
  const other = createClient({ url: redis.url });
  try {
    await other.connect();
    // Every command waits 1.5 s, as on a Redis too busy to answer: the connection opens, CONFIG GET times out.
    await other.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);
    const error = await openPersistence(redis.url, { namespace: 'busy', redisCommandTimeoutMs: 300 }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    assert.ok(error, 'not opened');
    assert.is(error!.code, 'STORAGE_UNAVAILABLE', error!.message);
    assert.match(error!.message, /does not answer/);
  } finally {
    await other.sendCommand(['CLIENT', 'UNPAUSE']).catch(() => {});
    await other.close().catch(() => {});
    await redis.stop();
  }
});

const actor = (address: string, n: number) => ({ address, record: { kind: 'k', ctx: { n }, timers: [], status: 'active' as const } });

test('a frozen Redis (the connection open, no answer) fails reads, claims and commits within the timeout instead of hanging', async () => {
  const redis = await startRedis();
  const p = await openShort(redis, { namespace: 'frozen', redisCommandTimeoutMs: 300 });
  try {
    await p.commit({ actors: [actor('a/1', 1)] });
    redis.pause();
    const started = performance.now();
    const outcomes = await Promise.allSettled([p.kv.get('anything'), p.claimOnce('compartment:A01', 'load-1'), p.commit({ actors: [actor('a/1', 2)] })]);
    const ms = performance.now() - started;
    assert.equal(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.is((outcomes[1] as PromiseRejectedResult).reason.code, 'STORAGE_UNAVAILABLE');
    assert.is((outcomes[2] as PromiseRejectedResult).reason.code, 'STORAGE_UNAVAILABLE');
    assert.ok(ms < 3_000, `answered in ${Math.round(ms)} ms`);
  } finally {
    redis.resume();
    await p.close().catch(() => {});
    await redis.stop();
  }
});

test('a commit whose EXEC gets no answer in time but is stored counts as committed', async () => {
  const redis = await startRedis();
  const logs: string[] = [];
  const p = await openShort(redis, { namespace: 'lost', redisCommandTimeoutMs: 300, log: (_level, msg) => logs.push(msg) });
  try {
    await p.commit({ actors: [actor('a/1', 1)] });
    // Redis freezes with the transaction in its socket: EXEC times out, then Redis runs it.
    redis.pause();
    const committing = p.commit({ actors: [actor('a/1', 2)] });
    await sleep(400);
    redis.resume();
    await committing;
    assert.ok(logs.some((l) => /no answer from Redis but is stored/.test(l)), 'the log says so');
    assert.equal((await p.loadActors()).get('a/1')!.ctx, { n: 2 });
    await p.commit({ actors: [actor('a/1', 3)] });
    assert.equal((await p.loadActors()).get('a/1')!.ctx, { n: 3 }, 'and the next commit goes on from it');
  } finally {
    await p.close();
    await redis.stop();
  }
});

test('a commit given up while Redis was silent, then stored after all, stops the box from going on with a state behind the store', async () => {
  const redis = await startRedis();
  const logs: string[] = [];
  const p = await openShort(redis, { namespace: 'late', redisCommandTimeoutMs: 200, log: (_level, msg) => logs.push(msg) });
  try {
    await p.commit({ actors: [actor('a/1', 1)] });
    redis.pause();
    const code = await p.commit({ actors: [actor('a/1', 2)] }).then(
      () => 'committed',
      (error: { code?: string }) => error.code,
    );
    assert.is(code, 'STORAGE_UNAVAILABLE', 'no answer within the time: the commit fails (the box rolls its actors back)');
    redis.resume(); // … and Redis runs the transaction it had received
    // On a loaded machine Redis may not answer the next commit's check within its 200 ms either:
    // that commit is refused as well (a timeout, not yet the finding), and the box tries again.
    let next: (Error & { code?: string }) | null = null;
    for (let i = 0; i < 50; i++) {
      next = await p.commit({ actors: [actor('a/1', 5)] }).then(
        () => null,
        (error: Error & { code?: string }) => error,
      );
      if (next === null || /restart the box/.test(next.message)) break;
      assert.is(next.code, 'STORAGE_UNAVAILABLE', `refused while Redis is slow: ${next.message}`);
      await sleep(100);
    }
    assert.is(next?.code, 'STORAGE_UNAVAILABLE', 'the box never goes on from a state behind the store');
    assert.match(next!.message, /restart the box/);
    assert.ok(logs.some((l) => /turned out stored/.test(l)));
    // What a restart finds: the commit the box had given up.
    const again = await openPersistence(redis.url, { namespace: 'late' });
    assert.equal((await again.loadActors()).get('a/1')!.ctx, { n: 2 });
    await again.close();
  } finally {
    await p.close();
    await redis.stop();
  }
});

test('a commit Redis never ran (it died with the transaction unread) is found not stored: the box goes on once Redis is back', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-redis-'));
  let server: ChildProcess = await launchRedis(port, dir);
  const p = await openPersistence(`redis://127.0.0.1:${port}`, { namespace: 'never', redisCommandTimeoutMs: 200 });
  try {
    await p.commit({ actors: [actor('a/1', 1)] });
    server.kill('SIGSTOP');
    const failed = await p.commit({ actors: [actor('a/1', 2)] }).then(
      () => null,
      (error: { code?: string }) => error.code,
    );
    assert.is(failed, 'STORAGE_UNAVAILABLE');
    // Killed frozen: the transaction in its socket is never run. Restarted on its append-only file.
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
    server = await launchRedis(port, dir);
    let committed = false;
    for (let i = 0; i < 50 && !committed; i++) {
      committed = await p.commit({ actors: [actor('a/1', 3)] }).then(
        () => true,
        () => false,
      );
      if (!committed) await sleep(100);
    }
    assert.ok(committed, 'the commit after the outage goes through: the lost one was found not stored');
    assert.equal((await p.loadActors()).get('a/1')!.ctx, { n: 3 });
  } finally {
    await p.close().catch(() => {});
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two boxes with the same name on one Redis (own namespaces) do not block each other: both get compartment A01', async () => {
  const redis = await startRedis();
  try {
    const config = { storage: redis.url, name: 'Ausgabebox', compartments: [{ id: 'A01', size: 'M' as const, accessible: false }] };
    const a = await testBox({ ...config, storageNamespace: 'bilk' });
    const b = await testBox({ ...config, storageNamespace: 'benrath' });
    try {
      await register(a.box, 'V-BILK-1');
      await register(b.box, 'V-BENRATH-1');
      assert.is((await a.box.loadPickup('V-BILK-1', 'anna')).compartmentId, 'A01');
      assert.is(await rejectionCode(b.box.loadPickup('V-BENRATH-1', 'ben')), null, 'the other box claimed its own A01');
      assert.is(b.box.pickup('V-BENRATH-1')!.compartmentId, 'A01');
      // Within one box the claim still holds: a second pickup finds no compartment.
      await register(a.box, 'V-BILK-2');
      assert.is(await rejectionCode(a.box.loadPickup('V-BILK-2', 'anna')), 'NO_FITTING_COMPARTMENT');
    } finally {
      await a.box.close();
      await b.box.close();
    }
  } finally {
    await redis.stop();
  }
});

test('a registration Redis stored after the box had given it up: the box stays not ready, so the watchdog has it restarted, and the restarted box has it', async () => {
  const redis = await startRedis();
  const logs: string[] = [];
  const storage = { storage: redis.url, storageNamespace: 'late-box' };
  const persistence = await openShort(redis, { namespace: 'late-box', redisCommandTimeoutMs: 200, log: (_level, msg) => logs.push(msg) });
  const t = await testBox(storage, { persistence }).catch(async (error: unknown) => {
    await persistence.close().catch(() => {});
    await redis.stop();
    throw error;
  });
  let closed = false;
  try {
    await register(t.box, 'V-LATE-1');
    redis.pause();
    assert.is(await rejectionCode(register(t.box, 'V-LATE-2')), 'STORAGE_UNAVAILABLE', 'no answer within the time: refused');
    assert.is(t.box.pickup('V-LATE-2'), undefined, 'the registry went back to its committed state');
    redis.resume(); // … and Redis runs the transaction it had received
    // The box's probe (every second of its clock) finds the given-up commit stored: the box is
    // behind its store and stays so, whatever it tries.
    for (let i = 0; i < 5; i++) {
      await sleep(100);
      await t.box.advance(1_000);
    }
    assert.ok(logs.some((l) => /turned out stored/.test(l)), 'the log says what happened');
    assert.is(await rejectionCode(register(t.box, 'V-LATE-3')), 'STORAGE_UNAVAILABLE', 'new work is refused');
    // The systemd watchdog is pinged only while the box is ready (src/cli.ts): not ready means
    // systemd restarts it within WatchdogSec (deploy/ausgabebox.service), and a start reloads.
    const ready = await readiness(t.box);
    assert.is(ready.ready, false, 'not ready');
    assert.match(ready.reasons.join('; '), /restart the box/, ready.reasons.join('; '));
    await t.box.close();
    closed = true;

    const restarted = await testBox(storage);
    try {
      assert.ok(restarted.box.pickup('V-LATE-1'));
      assert.ok(restarted.box.pickup('V-LATE-2'), 'the registration Redis had stored is there after the restart');
      assert.is(restarted.box.pickup('V-LATE-3'), undefined);
      assert.is((await readiness(restarted.box)).ready, true, 'and the restarted box is ready');
      await register(restarted.box, 'V-LATE-3');
      assert.ok(restarted.box.pickup('V-LATE-3'), 'and takes work again');
    } finally {
      await restarted.box.close();
    }
  } finally {
    if (!closed) await t.box.close().catch(() => {});
    await redis.stop();
  }
});

test.run();
