// Runs the uvu suite under tsx and ends with the line CI reads: "N passed, N failed".
// uvu prints "Total: N  Passed: N  Skipped: N"; we re-print it in the stable form and keep the exit code.
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const dir = args[0] ?? 'test';
const pattern = args[1] ?? '.*\\.test\\.ts$';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'node_modules/uvu/bin.js', dir, pattern, '--bail=false'].filter((a) => a !== '--bail=false'),
  { env: withoutForceColor({ ...process.env, NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code) => {
  const total = /Total:\s+(\d+)/.exec(out);
  const passed = /Passed:\s+(\d+)/.exec(out);
  const t = total ? Number(total[1]) : 0;
  const p = passed ? Number(passed[1]) : 0;
  const failed = code === 0 ? t - p : Math.max(t - p, 1);
  console.log(`\n${p} passed, ${failed} failed`);
  process.exit(code ?? 1);
});

function withoutForceColor(env) {
  delete env.FORCE_COLOR;
  return env;
}
