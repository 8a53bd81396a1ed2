import type { RoomDoorLayout } from '../device-layout.js';
import type { DoorState, RoomDoorPort } from '../ports.js';
import { Debouncer } from './debounce.js';
import type { GpioPort } from './port.js';

/**
 * The after-hours room's door on expander pins: the strike is one output (whole-byte latch writes
 * through the board's bus queue, like the locks), the contact an input read with its board's door
 * poll and debounced over `polls` agreeing polls.
 */
export class ExpanderRoomDoor implements RoomDoorPort {
  private readonly listeners = new Set<(door: DoorState) => void>();
  private readonly debouncer: Debouncer<DoorState>;

  constructor(
    private readonly layout: RoomDoorLayout,
    private readonly gpio: GpioPort,
    polls = 2,
  ) {
    this.debouncer = new Debouncer({ polls, stableMs: 0 });
    gpio.onPoll((board) => {
      if (board === layout.contact.board) this.sample();
    });
  }

  setUnlocked(unlocked: boolean): Promise<void> {
    return this.gpio.set(this.layout.lock, unlocked);
  }

  onDoorChange(listener: (door: DoorState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  door(): DoorState {
    return this.debouncer.state ?? 'closed';
  }

  private sample(): void {
    const high = this.gpio.polled(this.layout.contact);
    if (high === undefined) return;
    const level: DoorState = high ? 'open' : 'closed';
    // The first poll is the truth; door() said 'closed' until now, so an open door is news.
    const first = this.debouncer.state === undefined;
    const changed = this.debouncer.sample(level);
    if (first ? level !== 'open' : changed === undefined) return;
    for (const l of this.listeners) l(level);
  }
}
