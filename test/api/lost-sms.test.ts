import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PHONE, readyPickup } from '../helpers.js';
import { codeOf, ENGINES, KIOSK, STAFF, start, type Running } from './support.js';

// requestNewPin over GraphQL on both servers: the same answer for a number with a pickup and one
// without; only a kiosk asks, and only at the phone step.

const FIELDS = 'step error retryAt pinRequested';
const ASK = `mutation($id: ID!, $phone: String!) { requestNewPin(sessionId: $id, phone: $phone) { ${FIELDS} } }`;

for (const engine of ENGINES) {
  const test = suite<{ s?: Running }>(`lost SMS (${engine})`, {});
  test.before.each(async (ctx) => {
    ctx.s = await start(engine);
  });
  test.after.each(async (ctx) => {
    await ctx.s?.close();
  });

  const session = async (s: Running) => (await s.gql(`mutation { startSession { id } }`, {}, KIOSK)).data!.startSession.id as string;

  test('a number with a pickup and one without get the same answer; only the first gets an SMS', async ({ s }) => {
    await readyPickup(s!, 'V-2026-0601');
    const sent = s!.hw.sms.sent.length;
    const known = await s!.gql(ASK, { id: await session(s!), phone: '0152 28817386' }, KIOSK);
    await s!.gql(`mutation($id: ID!) { cancelSession(sessionId: $id) { step } }`, { id: s!.box.supervisor.view<{ active: string | null }>('kiosk/1')!.ctx.active }, KIOSK);
    await s!.box.advance(6_000);
    const unknown = await s!.gql(ASK, { id: await session(s!), phone: '0152 28817399' }, KIOSK);
    assert.is(known.errors, undefined);
    assert.equal(known.data, { requestNewPin: { step: 'pin', error: null, retryAt: null, pinRequested: true } });
    assert.equal(unknown.data, known.data);
    await s!.box.idle();
    assert.is(s!.hw.sms.sent.length, sent + 1);
    assert.is(s!.hw.sms.sent.at(-1)!.to, PHONE);
  });

  test('staff cannot ask for a citizen; a malformed number is refused before the session', async ({ s }) => {
    const id = await session(s!);
    assert.is(codeOf(await s!.gql(ASK, { id, phone: '0152 28817386' }, STAFF)), 'FORBIDDEN');
    assert.is(codeOf(await s!.gql(ASK, { id, phone: 'x' }, KIOSK)), 'INVALID_PHONE');
  });

  test.run();
}
