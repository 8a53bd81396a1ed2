import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCounts, MUST_BE_ZERO, runSoak } from './soak/run.js';

// The CI slice of `npm run soak`: the same soak code, a fixed seed and a few tens of SIGKILLs
// (inside commits, around pulses, around SMS sends, on a timer), every count that must be 0 is 0.

test('a seeded slice of the crash soak: nothing acknowledged lost, nothing stuck, no double or wrong-person opening, kiosks and compartments usable', async () => {
  const counts = await runSoak({ kills: 20, seed: 20_261_201, deepEvery: 10 });
  for (const line of formatCounts(counts)) console.log(`    ${line}`);
  assert.is(counts.kills, 20);
  assert.ok(counts.registered > 0 && counts.pulses > 0 && counts.sms > 0, 'the box did work between the kills');
  assert.is(counts.deepChecks, 2);
  for (const key of MUST_BE_ZERO) assert.is(counts[key], 0, `${key}: ${counts.findings.join('; ')}`);
});

test.run();
