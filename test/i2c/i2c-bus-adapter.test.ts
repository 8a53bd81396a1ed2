import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openI2cBus } from '../../drivers/i2c/i2c-bus-adapter.js';
import { rejectionCode } from './helpers.js';

test('opening a bus that does not exist (or without the native module) rejects with I2C_UNAVAILABLE', async () => {
  assert.is(await rejectionCode(openI2cBus(99)), 'I2C_UNAVAILABLE');
});

test.run();
