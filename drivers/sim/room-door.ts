import { DriverError, type DoorState, type RoomDoorPort } from '../ports.js';

/**
 * The after-hours room door at the device level: a strike that lets a person push the door open
 * while it is unlocked, a contact reported at once (no bus, no debounce). For development without
 * a layout and for the room door's contract suite, beside the expander-pin driver.
 */
export class SimulatedRoomDoor implements RoomDoorPort {
  unlocked = false;
  open = false;
  /** the next strike command fails with this code, as a board that stopped answering would */
  failNext: 'I2C_NACK' | 'I2C_TIMEOUT' | 'BOARD_MISSING' | null = null;
  private readonly listeners = new Set<(door: DoorState) => void>();

  async setUnlocked(unlocked: boolean): Promise<void> {
    if (this.failNext) {
      const code = this.failNext;
      this.failNext = null;
      throw new DriverError(code, 'the room door strike did not answer');
    }
    this.unlocked = unlocked;
  }

  onDoorChange(listener: (door: DoorState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  door(): DoorState {
    return this.open ? 'open' : 'closed';
  }

  /** A person pushes the door: it opens when the strike is energised. Returns whether it moved. */
  push(): boolean {
    if (this.open) return true;
    if (!this.unlocked) return false;
    this.set(true);
    return true;
  }

  /** The door is broken open. */
  force(): void {
    if (!this.open) this.set(true);
  }

  close(): void {
    if (this.open) this.set(false);
  }

  private set(open: boolean): void {
    this.open = open;
    for (const l of this.listeners) l(this.door());
  }
}
