/**
 * `npm run soak -- [kills] [seed] [--deep-every N] [--dir DIR] [--max-minutes M]`: the crash soak (test/crash/soak):
 * box processes one after another on one SQLite file, each killed with SIGKILL at a seeded point
 * inside a commit, around a lock pulse, around an SMS send or on a timer, each next one
 * recovering. Prints the seed (run again with it to replay the same kill plan) and the counts;
 * exits 1 when any count that must be 0 is not. Defaults: 1,000 kills, a seed from the clock.
 */
import { formatCounts, MUST_BE_ZERO, runSoak } from '../test/crash/soak/run.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const deepEvery = Number(flag('--deep-every') ?? 25);
const dir = flag('--dir');
const maxMinutes = flag('--max-minutes');
const kills = Number(args[0] ?? 1_000);
const seed = Number(args[1] ?? Date.now() % 2 ** 31);
if (!Number.isInteger(kills) || kills < 1 || !Number.isInteger(seed) || seed < 0) {
  console.error('usage: npm run soak -- [kills >= 1] [seed >= 0] [--deep-every N] [--dir DIR] [--max-minutes M]');
  process.exit(2);
}
console.log(`crash soak: ${kills} kills, seed ${seed} (replay: npm run soak -- ${kills} ${seed})${dir ? `, files in ${dir}` : ''}`);
const counts = await runSoak({ kills, seed, deepEvery, ...(maxMinutes ? { maxMinutes: Number(maxMinutes) } : {}), ...(dir ? { dir, keep: true } : {}), log: (line) => console.log(line) });
for (const line of formatCounts(counts)) console.log(line);
for (const f of counts.findings) console.log(`  finding: ${f}`);
const bad = MUST_BE_ZERO.filter((k) => counts[k] !== 0);
console.log(bad.length ? `FAILED: ${bad.join(', ')} not 0` : 'all counts 0');
process.exit(bad.length ? 1 : 0);
