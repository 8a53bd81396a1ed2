import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { ExpanderHeadphoneJacks } from '../../drivers/i2c/headphones.js';
import { ExpanderShredder } from '../../drivers/i2c/shredder.js';
import { SerialMrzReader } from '../../drivers/serial/mrz-reader.js';
import { createBox } from '../../src/box.js';
import { BIRTH, MONDAY_10AM, OLD_ID, PHONE, oldIdCard } from '../helpers.js';

// The README's layout with every device, as printed there, starts a box on the register-level
// simulation whose reader, shredder and jack are the real drivers; one pickup uses all of them.

function readmeConfig(): Record<string, unknown> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf('<!-- devices-layout -->');
  const block = /```json\n([\s\S]*?)```/.exec(readme.slice(at));
  if (at < 0 || !block) throw new Error('README.md has no devices-layout block');
  return JSON.parse(block[1]!) as Record<string, unknown>;
}

test('the README layout runs reader, shredder and headphone jack on their drivers over the simulation', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ ...readmeConfig(), storage: 'memory:' }, { clock });
  try {
    assert.is(box.config.hardware, 'i2c-sim', 'the default');
    assert.instance(box.hardware.reader, SerialMrzReader);
    assert.instance(box.hardware.shredder, ExpanderShredder);
    assert.instance(box.hardware.headphones, ExpanderHeadphoneJacks);
    await box.registerPickup({ reference: 'RDM-1', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH, oldDocumentNumber: OLD_ID });
    const { compartmentId } = await box.loadPickup('RDM-1', 'staff-anna');
    await box.advance(400);
    assert.ok(box.simulation.openDoor(compartmentId));
    await box.advance(300);
    box.simulation.closeDoor(compartmentId);
    await box.advance(300);
    const pin = /PIN: (\d{6})/.exec(box.simulation.smsSent().at(-1)!.text)![1]!;
    const { sessionId } = await box.startSession();
    box.simulation.plugHeadphones('1', true);
    await box.advance(300);
    assert.is(box.session(sessionId)!.headphones, true);
    await box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
    await box.sessionInput(sessionId, { type: 'pin', pin });
    await box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
    await box.idle();
    assert.ok(box.simulation.insertCard(oldIdCard()));
    await box.advance(2_500);
    assert.equal(box.shredderMechanism!.shredded, [], 'the checked card waits until the door opens');
    assert.ok(box.simulation.openDoor(compartmentId));
    await box.advance(300);
    assert.is(box.session(sessionId)!.outcome, 'collected');
    await box.advance(5_700);
    assert.equal(box.shredderMechanism!.shredded, [oldIdCard()]);
  } finally {
    await box.close();
  }
});

test.run();
