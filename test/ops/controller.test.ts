import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SOCAT, SYSTEMD_ANALYZE, SYSTEMD_NOTIFY, suiteNeeding } from '../support/requires.js';
import { parseMetrics } from './prometheus.js';

// The controller as it runs on a box: `npm run build` gives plain JavaScript that starts with
// `node` (no tsx), serves /health and /metrics, tells systemd it is ready, and stops cleanly on
// SIGTERM; the systemd unit passes `systemd-analyze verify`.

const root = resolve(import.meta.dirname, '../..');
const out = join(root, '.tmp', `build-${process.pid}`);

interface Running {
  child: ChildProcess;
  base: string;
  lines: string[];
  exited: Promise<number | null>;
}

/** Starts the built controller and resolves once it logged "running". */
function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [join(out, 'src', 'cli.js'), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((done, fail) => {
    let buffer = '';
    let base = '';
    const timer = setTimeout(() => fail(new Error(`the controller did not start:\n${lines.join('\n')}`)), 120_000);
    child.stderr!.on('data', (c: Buffer) => lines.push(c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      buffer += c.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const entry = JSON.parse(line) as { msg: string; url?: string };
        if (entry.url) base = entry.url.replace(/\/graphql$/, '');
        if (entry.msg.startsWith('running')) {
          clearTimeout(timer);
          done({ child, base, lines, exited });
        }
      }
    });
    void exited.then((code) => fail(new Error(`the controller exited with ${code}:\n${lines.join('\n')}`)));
  });
}

const build = suite('the built controller');

build.before(() => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--outdir', out, '--skip-web'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
});
build.after(() => rmSync(out, { recursive: true, force: true }));

build('runs with node alone: a demo pickup moves the counters, /health is health+json, no personal data, SIGTERM stops it cleanly', async () => {
  const data = mkdtempSync(join(tmpdir(), 'ausgabebox-built-'));
  let box: Running | undefined;
  try {
    box = await start(['--demo', '--port', '0', '--data-dir', data]);
    assert.not.match(readFileSync(join(out, 'src', 'cli.js'), 'utf8'), /from ['"][^'"]+\.ts['"]/, 'no TypeScript import left');
    const { monitor } = JSON.parse(readFileSync(join(data, 'dev-tokens.json'), 'utf8')) as { monitor: string };
    const res = await fetch(`${box.base}/metrics`, { headers: { authorization: `Bearer ${monitor}` } });
    assert.is(res.status, 200);
    const text = await res.text();
    const samples = parseMetrics(text);
    const value = (name: string, labels: Record<string, string>) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
    assert.is(value('ausgabebox_pickup_transitions_total', { status: 'COLLECTED' }), 1, 'the demo pickup was collected');
    assert.is(value('ausgabebox_sessions_ended_total', { outcome: 'collected' }), 1);
    assert.ok(value('ausgabebox_unlock_pulses_total', {}) >= 1, 'unlock pulses counted');
    assert.ok(value('ausgabebox_i2c_transactions_total', { bus: '1' }) > 0);
    const health = await fetch(`${box.base}/health`);
    assert.is(health.status, 200);
    assert.match(health.headers.get('content-type') ?? '', /^application\/health\+json/);
    const doc = (await health.json()) as { status: string };
    assert.is(doc.status, 'pass');
    for (const body of [text, JSON.stringify(doc)]) {
      assert.not.ok(body.includes('15228817386'), 'no phone number');
      assert.not.ok(body.includes('DEMO-'), 'no reference');
    }
    for (const s of samples) for (const v of Object.values(s.labels)) assert.not.match(v, /\d{6}/, 'no PIN-like label');

    const stopped = Date.now();
    box.child.kill('SIGTERM');
    assert.is(await box.exited, 0);
    assert.ok(Date.now() - stopped < 20_000, 'well within TimeoutStopSec');
    assert.ok(box.lines.some((l) => l.includes('"msg":"stopped"')), 'storage flushed and closed');
  } finally {
    box?.child.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});

build.run();

const notify = suiteNeeding('sd_notify to systemd', [SOCAT, SYSTEMD_NOTIFY]);

notify('the controller says READY=1 once it serves, pings the watchdog and says STOPPING=1 on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-notify-'));
  const socket = join(dir, 'notify.sock');
  // socat plays systemd's notification socket: one datagram per line on its stdout.
  const listener = spawn('socat', ['-u', `UNIX-RECV:${socket}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = '';
  let box: Running | undefined;
  listener.stdout!.on('data', (c: Buffer) => (received += `${c.toString()}\n`));
  try {
    for (let i = 0; i < 100 && spawnSync('test', ['-S', socket]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    const data = join(dir, 'data');
    spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--outdir', out, '--skip-web'], { cwd: root });
    box = await start(['--port', '0', '--data-dir', data], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '2000000' });
    const until = async (what: string) => {
      for (let i = 0; i < 200 && !received.includes(what); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(received.includes(what), `${what} arrived: ${received}`);
    };
    await until('READY=1');
    await until('WATCHDOG=1');
    box.child.kill('SIGTERM');
    assert.is(await box.exited, 0);
    await until('STOPPING=1');
  } finally {
    box?.child.kill('SIGKILL');
    listener.kill();
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

notify.run();

const unit = suiteNeeding('systemd unit', [SYSTEMD_ANALYZE]);

unit('deploy/ausgabebox.service passes systemd-analyze verify without a warning and keeps its promises', () => {
  const path = join(root, 'deploy/ausgabebox.service');
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr.trim(), '', 'no warning (an unknown key is only a warning)');
  const text = readFileSync(path, 'utf8');
  for (const line of ['Type=notify', 'WatchdogSec=', 'DynamicUser=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/ausgabebox', 'DeviceAllow=char-i2c rw', 'TimeoutStopSec=', 'StandardOutput=journal']) {
    assert.ok(text.split('\n').some((l) => l.startsWith(line)), `the unit has ${line}`);
  }
  assert.not.ok(/^MemoryDenyWriteExecute=yes/m.test(text), 'V8 needs W+X memory');
});

unit.run();
