import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDomainError } from '../../actors/domain/errors.js';
import { REGISTRY, compartmentAddress, sessionAddress } from '../../actors/messages.js';
import type { BoxEnqueue, BoxMessageTo } from '../../actors/protocol.js';
import type { RegistryCtx } from '../../actors/registry.js';
import { testBox, type TestBox } from '../helpers.js';

// The box's protocol is checked by the compiler: `npm run typecheck` compiles this file, and every
// `@ts-expect-error` below fails the build if the line under it compiles. The runtime test at the
// end shows the same messages refused at run time on the harness's unchecked path.

/** Never called: its body only has to compile (or, under @ts-expect-error, to fail to). */
function sendsThatCompileOrNot(t: TestBox, enq: BoxEnqueue<RegistryCtx, never>): void {
  const { supervisor } = t.box;
  // A message the recipient takes compiles.
  supervisor.send(compartmentAddress('A01'), { type: 'door.changed', door: 'open' });
  supervisor.send(REGISTRY, { type: 'session.ended', sessionId: 's-1' });
  enq.emit.send({ to: sessionAddress('s-1'), message: { type: 'auth.busy' } });

  // @ts-expect-error a compartment does not take the registry's messages
  supervisor.send(compartmentAddress('A01'), { type: 'session.ended', sessionId: 's-1' });
  // @ts-expect-error a message type that no actor has (a rename on one side only)
  supervisor.send(REGISTRY, { type: 'pickup.registered', reference: 'V-1' });
  // @ts-expect-error a field of the wrong type
  supervisor.send(compartmentAddress('A01'), { type: 'door.changed', door: 'ajar' });
  // @ts-expect-error an address outside the protocol
  supervisor.send('printer/1', { type: 'print' });
  // @ts-expect-error a handler's send is checked the same way: a session does not take `unlock`
  enq.emit.send({ to: sessionAddress('s-1'), message: { type: 'unlock', opId: 'op-1', purpose: 'collect', pickupId: 'P1', cause: { kind: 'staff', staffId: 'anna' } } });
  // @ts-expect-error error codes stay in the catalog: a made-up code does not compile
  enq.emit.send({ to: sessionAddress('s-1'), message: { type: 'release.failed', code: 'SOMETHING_WENT_WRONG' } });
  // @ts-expect-error ask takes only messages the recipient answers (a door change is not a request)
  void supervisor.ask(compartmentAddress('A01'), { type: 'door.changed', door: 'open' });
  void supervisor.ask(compartmentAddress('A01'), { type: 'fault.clear', by: 'anna' });
}

/** The union a recipient takes, as the compiler sees it: a compartment's includes `unlock`, not `auth.busy`. */
type CompartmentTakes = BoxMessageTo<'compartment/A01'>['type'];
const takesUnlock: CompartmentTakes = 'unlock';
// @ts-expect-error `auth.busy` is a session's message
const takesAuthBusy: CompartmentTakes = 'auth.busy';

test('the harness path, which no compiler checks, refuses the same wrong messages at run time', async () => {
  void sendsThatCompileOrNot;
  void takesAuthBusy;
  assert.is(takesUnlock, 'unlock');
  const t = await testBox();
  for (const [to, message] of [
    ['compartment/A01', { type: 'session.ended', sessionId: 's-1' }],
    [REGISTRY, { type: 'pickup.registered', reference: 'V-1' }],
    ['compartment/A01', { type: 'door.changed', door: 'ajar' }],
  ] as const) {
    try {
      t.box.inject(to, message);
      assert.unreachable(`${message.type} to ${to} was taken`);
    } catch (error) {
      assert.ok(isDomainError(error, 'INVALID_MESSAGE'), String(error));
    }
  }
  try {
    t.box.inject('printer/1', { type: 'print' });
    assert.unreachable('a message to nobody was taken');
  } catch (error) {
    assert.ok(isDomainError(error, 'ACTOR_NOT_FOUND'), String(error));
  }
  await t.box.close();
});

test.run();
