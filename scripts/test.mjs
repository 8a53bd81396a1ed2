// The test runner behind `npm test`: every test file runs in a process of its own (uvu under tsx),
// two at a time, so a file that aborts (process.exit, an uncaught error, uvu's "Exiting early")
// is reported by name as failed while every other file still runs and counts. Files that drive
// Chromium run one at a time (beside the other files): two browsers on two cores made a page take
// over 30 s to switch its text size, and the pages' real-time waits ran out.
//
//   node scripts/test.mjs [dir] [pattern]      pattern: a regex on the path below dir; only test
//                                               files (*.test.ts) ever run, whatever it matches
//   TEST_JOBS=n                                 how many files run at once (default 2)
//   TEST_FILE_TIMEOUT_MS=n                      a file still running after this is killed and failed
//
// The summary sums uvu's Total / Passed / Skipped over all files. Before it come the files that
// failed, with the reason, and the `SKIP <suite>: <reason>` lines of suites whose programs are
// missing (test/support/requires.ts). The last line always reads `N passed, N failed, K skipped`;
// the exit code is 1 when anything failed.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const uvuBin = join(root, 'node_modules', 'uvu', 'bin.js');
const tsx = import.meta.resolve('tsx');
/** makes uvu print a failure whose `details` is not a string (see the file) */
const uvuDetails = import.meta.resolve('./uvu-details.mjs');
const timingsFile = join(root, 'node_modules', '.cache', 'ausgabebox', 'test-durations.json');

const [dirArg = 'test', patternArg = '\\.test\\.[cm]?[jt]s$'] = process.argv.slice(2);
const dir = resolve(dirArg);
const pattern = new RegExp(patternArg, 'i');
// A helper beside the tests (a child process' script, a rig) is never run as a test file.
const TEST_FILE = /\.test\.[cm]?[jt]s$/i;
const jobs = Math.max(1, Number(process.env.TEST_JOBS) || Math.min(2, availableParallelism()));
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS) || 600_000;

/** Files below `dir` whose path (relative to `dir`, with `/`) matches the pattern; node_modules skipped. */
function findTests(base) {
  const found = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEST_FILE.test(entry.name) && pattern.test(relative(base, full).split('\\').join('/'))) found.push(full);
    }
  };
  if (statSync(base).isFile()) return [base];
  walk(base);
  return found.sort();
}

function readTimings() {
  try {
    return JSON.parse(readFileSync(timingsFile, 'utf8'));
  } catch {
    return {};
  }
}

const running = new Set();
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    process.exit(130);
  });
}

/** uvu's CLI on exactly one file: its directory and an anchored pattern for its name. */
function runFile(file) {
  const started = performance.now();
  const name = file.slice(dirname(file).length + 1);
  const only = `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return new Promise((resolveRun) => {
    // Each file leads a process group of its own, so a timeout or Ctrl-C also ends what it started.
    const child = spawn(process.execPath, ['--import', tsx, '--import', uvuDetails, uvuBin, dirname(file), only, '--no-color'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      killGroup(child, 'SIGKILL'); // whatever the file left behind
      resolveRun({ file, code, signal, timedOut, stdout, output, ms: performance.now() - started });
    });
  });
}

/** What one file contributed: uvu's own totals, or, for a file that never printed them, its finished suites plus one failure for the abort. */
function tally(run) {
  const number = (label) => {
    // the last one: uvu prints its summary at the very end
    const all = [...run.stdout.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)\\s*$`, 'gm'))];
    return all.length ? Number(all.at(-1)[1]) : null;
  };
  const skips = [...run.stdout.matchAll(/^SKIP (.+)$/gm)].map((m) => m[1]);
  const total = number('Total');
  const passed = number('Passed');
  const skipped = number('Skipped') ?? 0;
  if (total !== null && passed !== null && run.code === 0) {
    return { passed, failed: total - passed, skipped, skips, problem: total > passed ? `${total - passed} of ${total} tests failed` : null };
  }
  if (total !== null && passed !== null) {
    const failed = Math.max(total - passed, 1);
    const problem = total > passed ? `${total - passed} of ${total} tests failed` : `exited with code ${run.code} after all its tests passed`;
    return { passed, failed, skipped, skips, problem };
  }
  // Aborted before uvu's summary: count the suites that finished ("(passed / total)") and fail the file.
  let passedSoFar = 0;
  let failedSoFar = 0;
  for (const m of run.stdout.matchAll(/\((\d+) \/ (\d+)\)\s*$/gm)) {
    passedSoFar += Number(m[1]);
    failedSoFar += Number(m[2]) - Number(m[1]);
  }
  const how = run.timedOut ? `killed after ${fileTimeoutMs} ms` : run.signal ? `killed by ${run.signal}` : `exited with code ${run.code}`;
  return { passed: passedSoFar, failed: failedSoFar + 1, skipped, skips, problem: `aborted before its summary (${how})` };
}

const files = findTests(dir);
if (files.length === 0) {
  console.log(`no test files in ${relative(process.cwd(), dir) || '.'} matching /${pattern.source}/`);
  console.log('\n0 passed, 0 failed, 0 skipped');
  process.exit(1);
}

// Longest first (as measured last time; unknown files by size) keeps both workers busy to the end.
const timings = readTimings();
const key = (file) => relative(root, file);
const weight = (file) => timings[key(file)] ?? statSync(file).size;
const queue = [...files].sort((a, b) => weight(b) - weight(a));

/**
 * Whether the file drives a browser: it, or a module beside it that it imports, names the
 * browser's requirement (test/support/browser.ts: `BROWSER`) or playwright.
 */
function drivesBrowser(file) {
  const mentions = (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const source = mentions(file);
  const beside = [...source.matchAll(/(?:from|import) '\.\/([\w-]+)\.js'/g)].map((m) => mentions(join(dirname(file), `${m[1]}.ts`)));
  return [source, ...beside].some((text) => /\bBROWSER\b|playwright/.test(text));
}
const browserFiles = new Set(files.filter(drivesBrowser));
/** While a browser file runs: settles when it is done (the other worker takes the next file that is not one, or waits). */
let browserDone = null;
let browserFinished = () => {};

/** The next file to run: the longest left, but never a second browser file beside a running one. */
async function next() {
  for (;;) {
    const i = browserDone ? queue.findIndex((f) => !browserFiles.has(f)) : 0;
    if (i >= 0 && i < queue.length) {
      const file = queue.splice(i, 1)[0];
      if (browserFiles.has(file)) browserDone = new Promise((done) => (browserFinished = done));
      return file;
    }
    if (queue.length === 0) return undefined;
    await browserDone;
  }
}

const started = performance.now();
const results = [];
async function worker() {
  for (let file = await next(); file; file = await next()) {
    const run = await runFile(file);
    if (browserFiles.has(file)) {
      browserDone = null;
      browserFinished();
    }
    const counts = tally(run);
    results.push({ ...run, ...counts });
    const mark = counts.problem ? 'FAIL' : 'ok';
    process.stdout.write(`\n── ${relative(process.cwd(), file)} (${mark}, ${(run.ms / 1000).toFixed(1)} s)\n${run.output.trimEnd()}\n`);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

try {
  mkdirSync(dirname(timingsFile), { recursive: true });
  writeFileSync(timingsFile, JSON.stringify({ ...timings, ...Object.fromEntries(results.map((r) => [key(r.file), Math.round(r.ms)])) }, null, 1));
} catch {
  // the order is only an optimisation
}

const sum = (field) => results.reduce((n, r) => n + r[field], 0);
const failedFiles = results.filter((r) => r.problem).sort((a, b) => a.file.localeCompare(b.file));
const skipLines = [...new Set(results.flatMap((r) => r.skips))].sort();
console.log(`\n${files.length} files in ${((performance.now() - started) / 1000).toFixed(1)} s, ${jobs} at a time`);
for (const r of failedFiles) console.log(`FAILED ${relative(process.cwd(), r.file)}: ${r.problem}`);
for (const line of skipLines) console.log(`SKIP ${line}`);
const failed = sum('failed');
console.log(`${sum('passed')} passed, ${failed} failed, ${sum('skipped')} skipped`);
process.exit(failed > 0 ? 1 : 0);
