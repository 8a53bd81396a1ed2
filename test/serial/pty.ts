import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTd1 } from '../../actors/domain/mrz.js';
import type { MrzReaderProtocol } from '../../drivers/serial/mrz-reader.js';

/** The reader protocol the serial tests and the bench script: CR line ends, no framing, two-letter commands. */
export const PLAIN_PROTOCOL: MrzReaderProtocol = {
  lineEnd: 'CR',
  frame: null,
  presentLine: null,
  removedLine: null,
  commands: { enable: 'E1', disable: 'E0', eject: 'EJ', retain: 'RT' },
};

/** The three TD1 lines of Erika Mustermann's old ID card, with the given number and birth date. */
export const testCard = (documentNumber = 'L01X00T47', birthDate = '1980-04-12'): string[] =>
  makeTd1({ documentNumber, birthDate, expiryDate: '2030-01-31', surname: 'MUSTERMANN', givenNames: 'ERIKA' });

/**
 * A scripted MRZ reader on one end of a real pseudo-terminal pair made by socat: the driver opens
 * `path` (the pty) as it would open /dev/ttyUSB0; the test writes the reader's bytes through
 * socat's standard input and sees the driver's commands on its standard output. Killing socat
 * takes the pty away, as pulling a USB serial adapter does.
 */
export interface ScriptedReader {
  /** the pty the driver opens (a symlink to /dev/pts/N) */
  readonly path: string;
  /** bytes the reader sends at once */
  send(text: string): void;
  /** bytes the reader sends one chunk at a time with a pause between (a slow reader) */
  trickle(text: string, chunk: number, pauseMs: number): Promise<void>;
  /** every byte the driver sent to the reader so far */
  received(): string;
  /** resolves once the driver sent `text` (real time, with a bound) */
  waitForCommand(text: string, timeoutMs?: number): Promise<void>;
  /** the reader's cable is pulled: socat exits and the pty goes away */
  unplug(): Promise<void>;
  /** a fresh pty under the same path, as after plugging the reader back in */
  plug(): Promise<void>;
  close(): Promise<void>;
}

export async function scriptedReader(): Promise<ScriptedReader> {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-pty-'));
  const path = join(dir, 'reader');
  let child: ChildProcess | null = null;
  let received = '';
  const start = async () => {
    // raw, no echo: the pty passes bytes through as a serial line does.
    const proc = spawn('socat', [`pty,raw,echo=0,link=${path}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'ignore'] });
    proc.stdout!.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    proc.stdin!.on('error', () => {});
    child = proc;
    await until(() => existsSync(path), 20_000, 'socat made no pty');
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await gone;
    await until(() => !existsSync(path), 20_000, 'the pty link stayed');
  };
  await start();
  return {
    path,
    send(text) {
      child?.stdin!.write(Buffer.from(text, 'latin1'));
    },
    async trickle(text, chunk, pauseMs) {
      for (let i = 0; i < text.length; i += chunk) {
        child?.stdin!.write(Buffer.from(text.slice(i, i + chunk), 'latin1'));
        await sleep(pauseMs);
      }
    },
    received: () => received,
    waitForCommand: (text, timeoutMs = 20_000) => until(() => received.includes(text), timeoutMs, `the driver never sent ${JSON.stringify(text)}`),
    unplug: stop,
    plug: start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` in real time until it holds; rejects after `timeoutMs` naming what was awaited. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}
