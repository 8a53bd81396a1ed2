import type { Clock, TimerHandle } from '../../../actors/runtime/clock.js';
import type { BoardPin, ShredderLayout } from '../../device-layout.js';
import type { CardData } from '../../ports.js';
import type { SimulatedWorld, WiredDevice } from './world.js';

export interface ShredderMechanismOptions {
  /** how long the cutters need, motor running forward, to destroy a card in the throat */
  cutMs?: number;
}

/**
 * The shredder's physical side behind the expander pins: a flap that drops the card waiting in
 * the feed into the throat, a motor (relay) with a direction relay, a jam switch and a bin-full
 * switch. A card in the throat is destroyed after `cutMs` of forward running; a card marked to
 * jam stalls the cutters instead and closes the jam switch until staff clears it. Every motor run
 * and flap opening is recorded for assertions.
 */
export class SimulatedShredderMechanism implements WiredDevice {
  /** cards the reader moved in, waiting behind the flap */
  readonly feed: CardData[] = [];
  readonly shredded: CardData[] = [];
  readonly motorRuns: Array<{ start: number; end: number | undefined; direction: 'forward' | 'reverse' }> = [];
  flapOpenings = 0;
  /** the card between flap and cutters */
  throat: CardData | null = null;
  /** the next card stalls the cutters */
  jamNext = false;
  jammed = false;
  binCount = 0;
  private motorOn = false;
  private reverseOn = false;
  private flapOpen = false;
  private cut: TimerHandle | undefined;
  private readonly cutMs: number;

  constructor(
    private readonly layout: ShredderLayout,
    private readonly world: SimulatedWorld,
    private readonly clock: Clock,
    options: ShredderMechanismOptions = {},
  ) {
    this.cutMs = options.cutMs ?? 1500;
    world.wireDevice(this);
  }

  drivenLow(board: string, pin: number): boolean {
    if (is(this.layout.jam, board, pin)) return this.jammed;
    if (is(this.layout.binFull, board, pin)) return this.binCount >= this.layout.binCapacity;
    return false;
  }

  drivesChanged(board: string, active: (pin: number) => boolean): void {
    const { motor, reverse, flap } = this.layout;
    if (motor.board === board) this.setMotor(active(motor.pin), this.reverseOn);
    if (reverse.board === board) this.reverseOn = active(reverse.pin);
    if (flap.board === board) {
      const open = active(flap.pin);
      if (open && !this.flapOpen) {
        this.flapOpenings++;
        const card = this.feed.shift();
        if (card && !this.throat) this.throat = card;
      }
      this.flapOpen = open;
    }
  }

  /** Staff opens the shredder, takes the stuck card out and clears the cutters. */
  clearJam(): CardData | null {
    const card = this.throat;
    this.throat = null;
    this.jammed = false;
    this.world.deviceInputsChanged(this.layout.jam.board);
    return card;
  }

  /** Staff empties the bin. */
  emptyBin(): void {
    this.binCount = 0;
    this.world.deviceInputsChanged(this.layout.binFull.board);
  }

  /** Fills the bin to `count` cards (a test's shortcut to a nearly full bin). */
  setBinCount(count: number): void {
    this.binCount = count;
    this.world.deviceInputsChanged(this.layout.binFull.board);
  }

  private setMotor(on: boolean, reverse: boolean): void {
    if (on === this.motorOn) return;
    this.motorOn = on;
    const now = this.clock.now();
    if (on) {
      this.motorRuns.push({ start: now, end: undefined, direction: reverse ? 'reverse' : 'forward' });
      if (!reverse && this.throat && !this.jammed) {
        this.cut = this.clock.setTimer(now + this.cutMs, () => this.cutCard());
      }
    } else {
      this.motorRuns[this.motorRuns.length - 1]!.end = now;
      if (this.cut) this.clock.clearTimer(this.cut);
      this.cut = undefined;
    }
  }

  private cutCard(): void {
    this.cut = undefined;
    if (!this.throat) return;
    if (this.jamNext) {
      this.jamNext = false;
      this.jammed = true;
      this.world.deviceInputsChanged(this.layout.jam.board);
      return;
    }
    this.shredded.push(this.throat);
    this.throat = null;
    this.binCount++;
    this.world.deviceInputsChanged(this.layout.binFull.board);
  }
}

const is = (p: BoardPin, board: string, pin: number): boolean => p.board === board && p.pin === pin;
