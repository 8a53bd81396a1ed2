import type { RoomDoorLayout } from '../device-layout.js';
import type { DoorState, RoomDoorPort } from '../ports.js';
import type { GpioPort } from './port.js';

/**
 * The after-hours room's door on expander pins: the strike is one output (whole-byte latch writes
 * through the board's bus queue, like the locks), the contact an input read with its board's door
 * poll and debounced over `polls` agreeing polls.
 */
export class ExpanderRoomDoor implements RoomDoorPort {
  private readonly listeners = new Set<(door: DoorState) => void>();
  private settled: DoorState | undefined;
  private candidate: DoorState | undefined;
  private count = 0;

  constructor(
    private readonly layout: RoomDoorLayout,
    private readonly gpio: GpioPort,
    private readonly polls = 2,
  ) {
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
    return this.settled ?? 'closed';
  }

  private sample(): void {
    const high = this.gpio.polled(this.layout.contact);
    if (high === undefined) return;
    const level: DoorState = high ? 'open' : 'closed';
    if (this.settled === undefined) {
      // The first poll is the truth; door() said 'closed' until now, so an open door is news.
      this.settled = level;
      if (level === 'open') for (const l of this.listeners) l(level);
      return;
    }
    if (level === this.settled) {
      this.candidate = undefined;
      return;
    }
    if (this.candidate !== level) {
      this.candidate = level;
      this.count = 0;
    }
    if (++this.count < this.polls) return;
    this.settled = level;
    this.candidate = undefined;
    for (const l of this.listeners) l(level);
  }
}
