import type { HeadphoneJackLayout } from '../device-layout.js';
import type { HeadphoneEvent, HeadphonePort } from '../ports.js';
import { Debouncer } from './debounce.js';
import type { GpioPort } from './port.js';

/**
 * The panels' headphone jacks on input pins of the layout's boards. The contacts are read with
 * their board's door poll (no bus traffic of their own) and debounced: a change counts once
 * `polls` consecutive polls agree, as a plug wiggling in the jack must not flip the speech mode.
 */
export class ExpanderHeadphoneJacks implements HeadphonePort {
  private readonly listeners = new Set<(e: HeadphoneEvent) => void>();
  private readonly jacks: Array<HeadphoneJackLayout & { debouncer: Debouncer<boolean> }>;

  constructor(
    private readonly gpio: GpioPort,
    jacks: readonly HeadphoneJackLayout[],
    polls = 2,
  ) {
    this.jacks = jacks.map((j) => ({ ...j, debouncer: new Debouncer<boolean>({ polls, stableMs: 0 }) }));
    gpio.onPoll((board) => this.sample(board));
  }

  onChange(listener: (e: HeadphoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  plugged(kiosk: string): boolean {
    return this.jacks.find((j) => j.kiosk === kiosk)?.debouncer.state ?? false;
  }

  private sample(board: string): void {
    for (const jack of this.jacks) {
      if (jack.jack.board !== board) continue;
      const high = this.gpio.polled(jack.jack);
      if (high === undefined) continue;
      const plugged = jack.debouncer.sample(high === (jack.pluggedWhen === 'high'));
      if (plugged === undefined) continue;
      for (const l of this.listeners) l({ kiosk: jack.kiosk, plugged });
    }
  }
}
