import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real redis-server on 127.0.0.1, on a free port, in a temporary directory; stopped by `stop()`. */
export interface RedisServer {
  url: string;
  /** Freezes the server (SIGSTOP): connections stay open, commands wait unanswered in the socket. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT): it then runs what was sent meanwhile. */
  resume(): void;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

/**
 * Starts a redis-server on `port` with its data in `dir`; resolves once it accepts connections.
 * Durable (AOF, fsync always) unless `durable: false`, which gives Redis' own defaults for
 * persistence (no AOF: what the box refuses unless told otherwise).
 */
export async function launchRedis(port: number, dir: string, options: { durable?: boolean } = {}): Promise<ChildProcess> {
  const persistence = options.durable === false ? [] : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

export async function startRedis(options: { durable?: boolean } = {}): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error('the Redis backend tests need a real redis-server on PATH (Debian: apt-get install redis-server); .ci/run installs it');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-redis-'));
  const child = await launchRedis(port, dir, options);
  return {
    url: `redis://127.0.0.1:${port}`,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      // (A server that is gone already would never say so again: waiting for it would end the run silently.)
      if (child.exitCode !== null || child.signalCode !== null) return void rmSync(dir, { recursive: true, force: true });
      child.kill('SIGCONT');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
