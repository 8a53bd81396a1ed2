import type { RoomDoorLayout } from '../../device-layout.js';
import type { SimulatedWorld, WiredDevice } from './world.js';

/** The room door behind the expander pins: a strike, a door a person pushes, a contact. */
export class SimulatedRoomDoorMechanism implements WiredDevice {
  unlocked = false;
  open = false;
  /** every time the door opened: whether the strike let it (false: forced) */
  readonly openings: Array<{ at: number; forced: boolean }> = [];

  constructor(
    private readonly layout: RoomDoorLayout,
    private readonly world: SimulatedWorld,
    private readonly now: () => number,
  ) {
    world.wireDevice(this);
  }

  /** A person pushes the door: it opens when the strike is energised. Returns whether it moved. */
  push(): boolean {
    if (this.open) return true;
    if (!this.unlocked) return false;
    this.setOpen(true, false);
    return true;
  }

  /** The door is broken open. */
  force(): void {
    if (!this.open) this.setOpen(true, true);
  }

  close(): void {
    if (this.open) this.setOpen(false, false);
  }

  drivenLow(board: string, pin: number): boolean {
    return board === this.layout.contact.board && pin === this.layout.contact.pin && !this.open;
  }

  drivesChanged(board: string, active: (pin: number) => boolean): void {
    if (board === this.layout.lock.board) this.unlocked = active(this.layout.lock.pin);
  }

  private setOpen(open: boolean, forced: boolean): void {
    this.open = open;
    if (open) this.openings.push({ at: this.now(), forced });
    this.world.deviceInputsChanged(this.layout.contact.board);
  }
}
