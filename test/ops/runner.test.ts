import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

// `npm test` (scripts/test.mjs) runs every file in its own process and sums what each reports: a
// file that aborts is failed by name and the others still count; suites whose programs are missing
// are skipped with their reason, and the last line is the summary CI reads.

const root = resolve(import.meta.dirname, '../..');
const requires = join(root, 'test/support/requires.ts');
const test = suite('test runner');

interface Run {
  code: number | null;
  out: string;
  lines: string[];
}

function runner(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(root, 'scripts/test.mjs'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    child.once('error', fail);
    child.once('close', (code) => done({ code, out, lines: out.trimEnd().split('\n') }));
  });
}

/** The environment of a newcomer: no CI flag, so suiteNeeding() may skip. */
function newcomer(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.CI;
  return env;
}

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-runner-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const passing = `import { test } from 'uvu';
import * as assert from 'uvu/assert';
test('one', () => assert.is(1, 1));
test('two', () => assert.is(2, 2));
test.run();
`;

test('a file that aborts is failed by name and every other file still counts', async () => {
  const dir = tree({
    'a/passing.test.ts': passing,
    'b/aborting.test.ts': `import { suite } from 'uvu';
const first = suite('finishes');
first('passes before the abort', () => {});
first.run();
const second = suite('aborts');
second('exits the process', () => { process.exit(3); });
second('never runs', () => {});
second.run();
`,
    'b/hangs.test.ts': `import { test } from 'uvu';
test('waits for something that never comes', async () => { await new Promise(() => {}); });
test.run();
`,
    'c/failing.test.ts': `import { test } from 'uvu';
import * as assert from 'uvu/assert';
test('passes', () => {});
test('fails', () => assert.is(1, 2));
test.run();
`,
    'c/skipping.test.ts': `import * as assert from 'uvu/assert';
import { suiteNeeding } from ${JSON.stringify(requires)};
const test = suiteNeeding('needs a missing program', [{ program: 'ausgabebox-no-such-program', install: 'apt-get install nothing-at-all' }]);
test('would fail', () => assert.unreachable());
test('would fail too', () => assert.unreachable());
test.run();
`,
    'c/helper.ts': `throw new Error('not a test file: never loaded by the runner');\n`,
  });
  try {
    const run = await runner([dir], newcomer());
    assert.is(run.code, 1, run.out);
    // passing 2 + aborting 1 (its finished suite) + failing 1; failed: the abort, the hang, one assertion
    assert.is(run.lines.at(-1), '4 passed, 3 failed, 2 skipped', run.out);
    const summary = run.lines.slice(run.lines.findIndex((l) => /^\d+ files in /.test(l)));
    assert.ok(summary[0]!.startsWith('5 files in '), summary.join('\n'));
    assert.ok(summary.some((l) => /^FAILED .*b\/aborting\.test\.ts: aborted before its summary \(exited with code 3\)$/.test(l)), summary.join('\n'));
    assert.ok(summary.some((l) => /^FAILED .*b\/hangs\.test\.ts: aborted before its summary \(exited with code 1\)$/.test(l)), summary.join('\n'));
    assert.ok(summary.some((l) => /^FAILED .*c\/failing\.test\.ts: 1 of 2 tests failed$/.test(l)), summary.join('\n'));
    assert.not.ok(summary.some((l) => /passing|skipping/.test(l)), 'only failed files are listed as failed');
    assert.ok(summary.includes('SKIP needs a missing program: needs ausgabebox-no-such-program (install: apt-get install nothing-at-all)'), summary.join('\n'));
    // each file's own output is shown under its name
    assert.match(run.out, /── .*c\/failing\.test\.ts \(FAIL/);
    assert.match(run.out, /── .*a\/passing\.test\.ts \(ok/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files that drive a browser run one at a time, and the other files run beside them', async () => {
  // Each file writes when it starts and ends; two name the browser's requirement (one through a module beside it).
  const timed = (name: string, ms: number, extra = '') => `import { test } from 'uvu';
import { appendFileSync } from 'node:fs';
${extra}
test('${name}', async () => {
  appendFileSync(process.env.RUNNER_LOG!, '${name} start ' + Date.now() + '\\n');
  await new Promise((r) => setTimeout(r, ${ms}));
  appendFileSync(process.env.RUNNER_LOG!, '${name} end ' + Date.now() + '\\n');
});
test.run();
`;
  const dir = tree({
    'web/first.test.ts': timed('first', 600, "// needs BROWSER, as test/support/browser.ts names it"),
    'web/second.test.ts': timed('second', 600, "import './page.js';"),
    'web/page.ts': 'export const BROWSER = [];\n',
    'web/plain.test.ts': timed('plain', 300),
  });
  const log = join(dir, 'log.txt');
  try {
    const run = await runner([dir], newcomer({ RUNNER_LOG: log, TEST_JOBS: '2' }));
    assert.is(run.lines.at(-1), '3 passed, 0 failed, 0 skipped', run.out);
    const at: Record<string, number> = {};
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [name, what, ms] = line.split(' ');
      at[`${name} ${what}`] = Number(ms);
    }
    const [a, b] = at['first start']! < at['second start']! ? ['first', 'second'] : ['second', 'first'];
    assert.ok(at[`${a} end`]! <= at[`${b} start`]!, `the browser files ran in turn: ${JSON.stringify(at)}`);
    assert.ok(at['plain start']! < at[`${a} end`]!, `the plain file ran beside the first browser file: ${JSON.stringify(at)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failure whose error carries details that are not text (the box's DomainError) is printed with its reason, and the file's later tests still run", async () => {
  const domainError = JSON.stringify(join(root, 'actors/domain/errors.ts'));
  const dir = tree({
    // ES modules, as the project's own (uvu's report is patched where it is imported as one)
    'package.json': '{ "type": "module" }\n',
    'a/domain-error.test.ts': `import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DomainError } from ${domainError};
test('refused', () => { throw new DomainError('ACTOR_FAILED', 'registry could not handle pin.matched', { to: 'session/1-1' }); });
test('after it', () => assert.is(1, 1));
test('details with no JSON form', () => { const details: Record<string, unknown> = { step: 'pin' }; details.self = details; throw Object.assign(new Error('a cycle in its details'), { details }); });
test.run();
`,
  });
  try {
    const run = await runner([dir], newcomer());
    assert.is(run.lines.at(-1), '1 passed, 2 failed, 0 skipped', run.out);
    assert.match(run.out, /FAIL\s+"refused"\s+registry could not handle pin\.matched/);
    assert.match(run.out, /FAIL\s+"details with no JSON form"\s+a cycle in its details/);
    assert.match(run.out, /"to": "session\/1-1"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pattern that matches a helper beside the tests runs only the test files', async () => {
  const dir = tree({
    'a/passing.test.ts': passing,
    'a/passing-child.ts': `throw new Error('a helper script: never run as a test file');\n`,
  });
  try {
    const run = await runner([dir, 'passing'], newcomer());
    assert.is(run.code, 0, run.out);
    assert.is(run.lines.at(-1), '2 passed, 0 failed, 0 skipped', run.out);
    assert.not.match(run.out, /passing-child/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with CI=true a missing program is a failure, not a skip', async () => {
  const dir = tree({
    'skipping.test.ts': `import { suiteNeeding } from ${JSON.stringify(requires)};
import { spawnSync } from 'node:child_process';
const test = suiteNeeding('needs a missing program', [{ program: 'ausgabebox-no-such-program', install: 'apt-get install nothing-at-all' }]);
test('runs it', () => { if (spawnSync('ausgabebox-no-such-program').error) throw new Error('ausgabebox-no-such-program is missing'); });
test.run();
`,
  });
  try {
    const run = await runner([dir], { ...process.env, CI: 'true' });
    assert.is(run.code, 1, run.out);
    assert.is(run.lines.at(-1), '0 passed, 1 failed, 0 skipped', run.out);
    assert.not.match(run.out, /^SKIP /m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without redis-server on the PATH the Redis suites are skipped with the install hint and nothing fails', async () => {
  // A PATH of symlinks to every program on the real PATH except redis-server.
  const bin = mkdtempSync(join(tmpdir(), 'ausgabebox-path-'));
  try {
    for (const d of (process.env.PATH ?? '').split(delimiter)) {
      let names: string[] = [];
      try {
        names = readdirSync(d);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith('redis-')) continue;
        try {
          symlinkSync(join(d, name), join(bin, name));
        } catch {
          // an earlier PATH entry already provides it
        }
      }
    }
    // the Redis suites' own helpers, without the SQLite half of test/persistence
    const dir = tree({
      'redis.test.ts': `import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REDIS, suiteNeeding } from ${JSON.stringify(requires)};
import { startRedis } from ${JSON.stringify(join(root, 'test/persistence/redis-server.ts'))};
const plain = suite('needs nothing');
plain('runs', () => assert.ok(true));
plain.run();
const test = suiteNeeding('persistence contract (redis)', [REDIS]);
test('starts a server', async () => { const r = await startRedis(); await r.stop(); });
test('and another', async () => { const r = await startRedis(); await r.stop(); });
test.run();
`,
    });
    try {
      const run = await runner([dir], newcomer({ PATH: bin }));
      assert.is(run.code, 0, run.out);
      assert.is(run.lines.at(-1), '1 passed, 0 failed, 2 skipped', run.out);
      assert.ok(run.lines.includes('SKIP persistence contract (redis): needs redis-server (install: apt-get install redis-server)'), run.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test.run();
