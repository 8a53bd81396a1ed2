import type { HeadphoneJackLayout } from '../device-layout.js';
import type { HeadphoneEvent, HeadphonePort } from '../ports.js';
import type { GpioPort } from './port.js';

/**
 * The panels' headphone jacks on input pins of the layout's boards. The contacts are read with
 * their board's door poll (no bus traffic of their own) and debounced: a change counts once
 * `polls` consecutive polls agree, as a plug wiggling in the jack must not flip the speech mode.
 */
export class ExpanderHeadphoneJacks implements HeadphonePort {
  private readonly listeners = new Set<(e: HeadphoneEvent) => void>();
  private readonly jacks: Array<HeadphoneJackLayout & { settled: boolean | undefined; candidate: boolean | undefined; count: number }>;

  constructor(
    private readonly gpio: GpioPort,
    jacks: readonly HeadphoneJackLayout[],
    private readonly polls = 2,
  ) {
    this.jacks = jacks.map((j) => ({ ...j, settled: undefined, candidate: undefined, count: 0 }));
    gpio.onPoll((board) => this.sample(board));
  }

  onChange(listener: (e: HeadphoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  plugged(kiosk: string): boolean {
    return this.jacks.find((j) => j.kiosk === kiosk)?.settled ?? false;
  }

  private sample(board: string): void {
    for (const jack of this.jacks) {
      if (jack.jack.board !== board) continue;
      const high = this.gpio.polled(jack.jack);
      if (high === undefined) continue;
      const plugged = high === (jack.pluggedWhen === 'high');
      // The first reading is the truth: nothing to change from, and nothing to report.
      if (jack.settled === undefined) {
        jack.settled = plugged;
        continue;
      }
      if (plugged === jack.settled) {
        jack.candidate = undefined;
        continue;
      }
      if (jack.candidate !== plugged) {
        jack.candidate = plugged;
        jack.count = 0;
      }
      if (++jack.count < this.polls) continue;
      jack.settled = plugged;
      jack.candidate = undefined;
      for (const l of this.listeners) l({ kiosk: jack.kiosk, plugged });
    }
  }
}
