import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Hub } from '../../actors/runtime/hub.js';

test('a value goes to the listeners present when it is published, whether one or several', () => {
  const hub = new Hub<number>();
  const seen: string[] = [];
  hub.publish(0); // nobody listens: nothing happens
  const stopA = hub.listen((v) => {
    seen.push(`a${v}`);
    // a listener added while a value is delivered hears the next one, not this one
    if (v === 1) hub.listen((w) => seen.push(`b${w}`));
  });
  hub.publish(1);
  hub.publish(2);
  stopA();
  hub.publish(3);
  assert.equal(seen, ['a1', 'a2', 'b2', 'b3']);
});

test('a listener that stops listening while a value is delivered does not stop the others', () => {
  const hub = new Hub<number>();
  const seen: string[] = [];
  const stopA = hub.listen((v) => {
    seen.push(`a${v}`);
    stopA();
  });
  hub.listen((v) => seen.push(`b${v}`));
  hub.publish(1);
  hub.publish(2);
  assert.equal(seen, ['a1', 'b1', 'b2']);
});

test.run();
