import type { HeadphoneJackLayout } from '../../device-layout.js';
import type { SimulatedWorld, WiredDevice } from './world.js';

/** The jacks' switch contacts behind the expander pins: a test plugs headphones in and out. */
export class SimulatedHeadphoneContacts implements WiredDevice {
  private readonly plugged = new Map<string, boolean>();

  constructor(
    private readonly jacks: readonly HeadphoneJackLayout[],
    private readonly world: SimulatedWorld,
  ) {
    world.wireDevice(this);
  }

  /** Headphones go into (or come out of) the jack of `kiosk`. */
  plug(kiosk: string, plugged = true): void {
    const jack = this.jacks.find((j) => j.kiosk === kiosk);
    if (!jack) throw new Error(`no headphone jack for panel ${kiosk} in the layout`);
    this.plugged.set(kiosk, plugged);
    this.world.deviceInputsChanged(jack.jack.board);
  }

  drivenLow(board: string, pin: number): boolean {
    const jack = this.jacks.find((j) => j.jack.board === board && j.jack.pin === pin);
    if (!jack) return false;
    const plugged = this.plugged.get(jack.kiosk) ?? false;
    // The contact pulls the pin to ground in the state that reads low.
    return plugged === (jack.pluggedWhen === 'low');
  }

  drivesChanged(): void {}
}
