import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { codeOf, ENGINES, HARNESS, KIOSK, KIOSK_2, STAFF, start, type Running } from './support.js';

// The session's time limit over GraphQL (WCAG 2.2.1): a warning 20 s before the timeout, one
// extendSession gives the full time again, ten times; then the timeout stands. Both servers.

const FIELDS = 'id step warning expiresAt extensionsLeft outcome error revision';
const EXTEND = `mutation($id: ID!) { extendSession(sessionId: $id) { ${FIELDS} } }`;
const READ = `query($id: ID!) { session(id: $id) { ${FIELDS} } }`;

for (const engine of ENGINES) {
  const test = suite<{ s?: Running }>(`session time limit (${engine})`, {});
  test.before.each(async (ctx) => {
    ctx.s = await start(engine);
  });
  test.after.each(async (ctx) => {
    await ctx.s?.close();
  });

  const advance = (s: Running, ms: number) => s.gql(`mutation($ms: Int!) { advanceClock(ms: $ms) }`, { ms }, HARNESS);

  test('20 s before the timeout the session warns; extendSession gives the whole time again', async ({ s }) => {
    const started = (await s!.gql(`mutation { startSession { ${FIELDS} } }`, {}, KIOSK)).data!.startSession;
    assert.equal([started.warning, started.extensionsLeft], [false, 10]);
    // The simulated clock moves only when advanced: the session started 39 s before this.
    const startedAt = Date.parse((await advance(s!, 39_000)).data!.advanceClock) - 39_000;
    assert.is((await s!.gql(READ, { id: started.id }, KIOSK)).data!.session.warning, false, 'no warning 21 s before');
    await advance(s!, 1_000);
    const warned = (await s!.gql(READ, { id: started.id }, KIOSK)).data!.session;
    assert.is(warned.warning, true, 'the warning is out 20 s before');
    assert.is(Date.parse(warned.expiresAt), startedAt + 60_000);
    const extended = await s!.gql(EXTEND, { id: started.id }, KIOSK);
    assert.is(extended.errors, undefined);
    assert.equal([extended.data!.extendSession.warning, extended.data!.extendSession.extensionsLeft, extended.data!.extendSession.step], [false, 9, 'phone']);
    assert.is(Date.parse(extended.data!.extendSession.expiresAt), startedAt + 40_000 + 60_000);
    assert.ok(extended.data!.extendSession.revision > warned.revision);
  });

  test('ten extensions, then the timeout stands and the session ends', async ({ s }) => {
    const id = (await s!.gql(`mutation { startSession { id } }`, {}, KIOSK)).data!.startSession.id as string;
    for (let i = 1; i <= 10; i++) {
      await advance(s!, 45_000);
      const r = await s!.gql(EXTEND, { id }, KIOSK);
      assert.is(r.data!.extendSession.extensionsLeft, 10 - i, `extension ${i}`);
      assert.is(r.data!.extendSession.step, 'phone', `still running after ${i * 45} s`);
    }
    await advance(s!, 45_000);
    const none = (await s!.gql(EXTEND, { id }, KIOSK)).data!.extendSession;
    assert.equal([none.extensionsLeft, none.warning], [0, true], 'no more time: the warning stays');
    await advance(s!, 15_000);
    const over = (await s!.gql(READ, { id }, KIOSK)).data!.session;
    assert.equal([over?.step, over?.outcome, over?.error], ['done', 'timeout', 'SESSION_TIMEOUT']);
  });

  test('only the session\'s own kiosk extends it', async ({ s }) => {
    const id = (await s!.gql(`mutation { startSession { id } }`, {}, KIOSK)).data!.startSession.id as string;
    assert.is(codeOf(await s!.gql(EXTEND, { id }, STAFF)), 'FORBIDDEN');
    assert.is(codeOf(await s!.gql(EXTEND, { id }, KIOSK_2)), 'SESSION_NOT_FOUND');
    assert.is((await s!.gql(READ, { id }, KIOSK)).data!.session.extensionsLeft, 10);
  });

  test.run();
}
