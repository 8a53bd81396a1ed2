// A box in a process of its own for the fleet tests: its own SQLite file in DIR, simulated devices
// and clock, linked to the fleet Redis. It takes one instruction per line on stdin and answers
// with one line on stdout:
//   register <ref>   staff at the box registers a pickup           → OK register <ref> <status>
//   collect <ref>    staff loads it, the citizen collects it        → OK collect <ref> <status>
//   seq              the outbox position                            → SEQ <lastSeq> <sentSeq>
import { createInterface } from 'node:readline';
import { authenticate, BIRTH, passDoor } from '../helpers.js';
import { fleetBox } from './support.js';

const [dir, boxId, url] = process.argv.slice(2) as [string, string, string];
const b = await fleetBox(boxId, dir, url);
const say = (line: string) => process.stdout.write(`${line}\n`);

async function collect(reference: string): Promise<string> {
  const { compartmentId } = await b.box.loadPickup(reference, 'staff-anna');
  await b.box.idle();
  await passDoor(b, compartmentId);
  const sessionId = await authenticate(b, '246810');
  b.box.sessionInput(sessionId, { type: 'birthDate', birthDate: '12.04.1980' });
  await b.box.idle();
  b.hw.locks.openDoor(compartmentId);
  await b.box.idle();
  return b.box.pickup(reference)?.status ?? 'GONE';
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [op, ref] = line.trim().split(/\s+/);
  try {
    if (op === 'register') {
      const r = (await b.box.registerPickup({ reference: ref!, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH }, 'staff')) as { status: string };
      say(`OK register ${ref} ${r.status}`);
    } else if (op === 'collect') say(`OK collect ${ref} ${await collect(ref!)}`);
    else if (op === 'seq') {
      await b.link.outbox.flush();
      say(`SEQ ${b.link.outbox.lastSeq} ${b.link.outbox.sentSeq}`);
    }
  } catch (error) {
    say(`ERR ${op} ${ref} ${(error as { code?: string }).code ?? (error as Error).message}`);
  }
}
