import type { Clock } from '../../actors/runtime/clock.js';
import type { ShredderLayout } from '../device-layout.js';
import { DriverError, type ShredResult, type ShredderPort } from '../ports.js';
import type { GpioPort } from './port.js';

export interface ExpanderShredderOptions {
  layout: ShredderLayout;
  gpio: GpioPort;
  clock: Clock;
}

/**
 * The ShredderPort on pins of the layout's expander boards: motor relay, direction relay and card
 * flap as outputs, jam and bin-full switches as inputs (closing to ground). Every pin change is one
 * latch write through the board's bus queue, shared with the locks.
 *
 * One card: check the switches, open the flap for `flapMs` (the card drops into the cutters), run
 * the motor forward for `shredMs` while reading the jam switch every `pollMs`, stop. A jam stops
 * the motor at once, runs it in reverse for `reverseMs` to free the cutters, and reports
 * SHREDDER_JAM (the actor keeps the card on record and raises the alarm).
 *
 * Invariants: the motor never runs longer than `maxMotorMs` in one go — a watchdog on the clock
 * switches it off even if the loop is held up by a slow bus; the direction relay only changes while
 * the motor is off; every output is released when a shred ends, however it ends.
 */
export class ExpanderShredder implements ShredderPort {
  private readonly layout: ShredderLayout;
  private used = 0;
  private fullSeen = false;
  private busy = false;
  /** every motor run, for status pages and tests: start, end and direction, clock ms */
  readonly motorRuns: Array<{ start: number; end: number; direction: 'forward' | 'reverse' }> = [];

  constructor(private readonly options: ExpanderShredderOptions) {
    this.layout = options.layout;
    const t = this.layout.timing;
    if (t.shredMs > t.maxMotorMs || t.reverseMs > t.maxMotorMs) {
      throw new DriverError('SHREDDER_ON_TIME_EXCEEDED', `a ${Math.max(t.shredMs, t.reverseMs)} ms motor run exceeds the maximum on-time of ${t.maxMotorMs} ms`);
    }
    // The bin-full switch is read with every poll of its board at no extra bus cost.
    options.gpio.onPoll((board) => {
      if (board !== this.layout.binFull.board) return;
      if (options.gpio.polled(this.layout.binFull) === false) this.fullSeen = true;
    });
  }

  async shred(): Promise<ShredResult> {
    if (this.busy) throw new DriverError('SHREDDER_BUSY', 'the shredder is already shredding');
    this.busy = true;
    try {
      const [jamLevel, fullLevel] = await this.options.gpio.read([this.layout.jam, this.layout.binFull]);
      if (fullLevel === false) {
        this.fullSeen = true;
        return { ok: false, code: 'SHREDDER_BIN_FULL' };
      }
      if (jamLevel === false) return { ok: false, code: 'SHREDDER_JAM' };
      if (this.binFree() <= 0) return { ok: false, code: 'SHREDDER_BIN_FULL' };
      await this.pulseFlap();
      const jammed = await this.run('forward', this.layout.timing.shredMs, true);
      if (jammed) {
        await this.run('reverse', this.layout.timing.reverseMs, false);
        return { ok: false, code: 'SHREDDER_JAM' };
      }
      this.used++;
      return { ok: true };
    } finally {
      this.busy = false;
    }
  }

  binFree(): number {
    return this.fullSeen ? 0 : Math.max(0, this.layout.binCapacity - this.used);
  }

  binCapacity(): number {
    return this.layout.binCapacity;
  }

  emptyBin(): void {
    this.used = 0;
    this.fullSeen = false;
  }

  private async pulseFlap(): Promise<void> {
    const { gpio, clock } = this.options;
    try {
      await gpio.set(this.layout.flap, true);
      await clock.sleep(this.layout.timing.flapMs);
    } finally {
      await gpio.set(this.layout.flap, false);
    }
  }

  /**
   * Runs the motor in one direction for `ms` (never beyond maxMotorMs); with `watchJam` it stops
   * as soon as the jam switch closes. Resolves whether it stopped for a jam.
   */
  private async run(direction: 'forward' | 'reverse', ms: number, watchJam: boolean): Promise<boolean> {
    const { gpio, clock } = this.options;
    const { motor, reverse, jam, timing } = this.layout;
    if (direction === 'reverse') await gpio.set(reverse, true);
    const start = clock.now();
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        await gpio.set(motor, false);
        this.motorRuns.push({ start, end: clock.now(), direction });
      })());
    // The on-time limit holds even when the loop below is held up (a slow bus, a retry backoff).
    const watchdog = clock.setTimer(start + Math.min(ms, timing.maxMotorMs), () => void stop().catch(() => {}));
    let jammed = false;
    try {
      await gpio.set(motor, true);
      for (let left = ms; left > 0 && stopping === null; left = start + ms - clock.now()) {
        await clock.sleep(Math.min(timing.pollMs, left));
        if (watchJam && stopping === null && (await gpio.read([jam]))[0] === false) {
          jammed = true;
          break;
        }
      }
    } finally {
      clock.clearTimer(watchdog);
      await stop();
      if (direction === 'reverse') await gpio.set(reverse, false);
    }
    // Cutters that stalled in the last moments of the run: one more look once the motor is off.
    if (watchJam && !jammed) jammed = (await gpio.read([jam]))[0] === false;
    return jammed;
  }
}
