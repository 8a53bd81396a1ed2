import type { Clock } from '../../actors/runtime/clock.js';
import type { BoardPin } from '../device-layout.js';
import type { CardActuator } from '../serial/mrz-reader.js';
import type { GpioPort } from './port.js';

/**
 * Eject and retain of the card reader's slot by pulsing expander outputs (a reader whose
 * mechanism is wired to the box instead of taking commands). Each is one pulse of `pulseMs`:
 * two latch writes through the board's bus queue; the output is released however the wait ends.
 */
export function pinPulseActuator(gpio: GpioPort, clock: Clock, pins: { eject: BoardPin; retain: BoardPin; pulseMs: number }): CardActuator {
  const pulse = async (pin: BoardPin) => {
    try {
      await gpio.set(pin, true);
      await clock.sleep(pins.pulseMs);
    } finally {
      await gpio.set(pin, false);
    }
  };
  return { eject: () => pulse(pins.eject), retain: () => pulse(pins.retain) };
}
