import type { DoorState } from '../ports.js';

export interface DebounceOptions {
  /** consecutive polls that must agree before a change counts */
  polls: number;
  /** and the new level must have held at least this long */
  stableMs: number;
}

export const DEFAULT_DEBOUNCE: DebounceOptions = { polls: 2, stableMs: 50 };

/**
 * Debounces one input contact (a door switch, a headphone jack). The first sample is taken as the
 * truth (there is nothing to change from); after that a new level is reported once it was seen in
 * `polls` consecutive samples spanning at least `stableMs`. A sample back at the settled level
 * discards the candidate.
 */
export class Debouncer<L> {
  private settled: L | undefined;
  private candidate: { level: L; since: number; count: number } | undefined;

  constructor(private readonly options: DebounceOptions) {}

  get state(): L | undefined {
    return this.settled;
  }

  /** Feeds one sample taken at `at`; returns the new state when the debounced state changed. */
  sample(level: L, at = 0): L | undefined {
    if (this.settled === undefined) {
      this.settled = level;
      return undefined;
    }
    if (level === this.settled) {
      this.candidate = undefined;
      return undefined;
    }
    if (this.candidate?.level !== level) this.candidate = { level, since: at, count: 0 };
    this.candidate.count++;
    if (this.candidate.count < this.options.polls || at - this.candidate.since < this.options.stableMs) return undefined;
    this.settled = level;
    this.candidate = undefined;
    return level;
  }
}

/** A door switch's debouncer. */
export class DoorDebouncer extends Debouncer<DoorState> {}
