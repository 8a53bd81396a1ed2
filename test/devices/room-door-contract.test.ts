import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DoorState, RoomDoorPort } from '../../drivers/ports.js';
import { SimulatedRoomDoor } from '../../drivers/sim/room-door.js';
import { ROOM_DOOR_ADDRESS, roomDoorRig, settle } from './room-door-rig.js';

/**
 * One contract for every RoomDoorPort: the device-level simulation and the expander-pin driver
 * on the register-level simulated MCP23017 and PCF8574 with the door mechanism behind the pins.
 */
interface RoomDoorRigView {
  port: RoomDoorPort;
  /** a person pushes the door; whether it moved */
  push(): boolean;
  force(): void;
  close(): void;
  /** lets the driver see what happened (polls and debounce on the pins; nothing at device level) */
  settle(): Promise<void>;
  /** the strike as the hardware has it */
  strikeEnergised(): boolean;
  /** the strike's board stops acknowledging (I2C_NACK) */
  breakBoard(): void;
}

async function deviceLevel(): Promise<RoomDoorRigView> {
  const d = new SimulatedRoomDoor();
  return {
    port: d,
    push: () => d.push(),
    force: () => d.force(),
    close: () => d.close(),
    settle: async () => {},
    strikeEnergised: () => d.unlocked,
    breakBoard: () => (d.failNext = 'I2C_NACK'),
  };
}

function onPins(kind: 'mcp23017' | 'pcf8574') {
  return async (): Promise<RoomDoorRigView> => {
    const r = await roomDoorRig(kind);
    await r.clock.advance(250, settle); // the first polls: the contact's level is known
    return {
      port: r.door,
      push: () => r.mechanism.push(),
      force: () => r.mechanism.force(),
      close: () => r.mechanism.close(),
      settle: () => r.clock.advance(250, settle),
      strikeEnergised: () => r.mechanism.unlocked,
      breakBoard: () => r.bank.buses.get(1)!.injectFault(ROOM_DOOR_ADDRESS[kind], 'I2C_NACK'),
    };
  };
}

for (const [name, make] of [
  ['device-level simulation', deviceLevel],
  ['expander pins on MCP23017', onPins('mcp23017')],
  ['expander pins on PCF8574', onPins('pcf8574')],
] as const) {
  const contract = suite(`room door contract: ${name}`);

  contract('at start the strike is released and the door closed: a push does not open it', async () => {
    const r = await make();
    const heard: DoorState[] = [];
    r.port.onDoorChange((d) => heard.push(d));
    assert.is(r.port.door(), 'closed');
    assert.not.ok(r.strikeEnergised());
    assert.not.ok(r.push());
    await r.settle();
    assert.equal(heard, []);
  });

  contract('unlocked, the door opens to a push and is heard once as open, then once as closed', async () => {
    const r = await make();
    const heard: DoorState[] = [];
    r.port.onDoorChange((d) => heard.push(d));
    await r.port.setUnlocked(true);
    assert.ok(r.strikeEnergised());
    assert.ok(r.push());
    await r.settle();
    assert.is(r.port.door(), 'open');
    r.close();
    await r.settle();
    assert.is(r.port.door(), 'closed');
    assert.equal(heard, ['open', 'closed']);
  });

  contract('locked again, the door stays shut', async () => {
    const r = await make();
    await r.port.setUnlocked(true);
    await r.port.setUnlocked(false);
    assert.not.ok(r.strikeEnergised());
    assert.not.ok(r.push());
    await r.settle();
    assert.is(r.port.door(), 'closed');
  });

  contract('forced open while locked, the contact reports it open all the same', async () => {
    const r = await make();
    const heard: DoorState[] = [];
    r.port.onDoorChange((d) => heard.push(d));
    r.force();
    await r.settle();
    assert.is(r.port.door(), 'open');
    assert.equal(heard, ['open']);
  });

  contract('a listener that unsubscribed hears nothing more', async () => {
    const r = await make();
    const heard: DoorState[] = [];
    const off = r.port.onDoorChange((d) => heard.push(d));
    r.force();
    await r.settle();
    off();
    r.close();
    await r.settle();
    assert.equal(heard, ['open']);
    assert.is(r.port.door(), 'closed');
  });

  contract('a strike board that does not answer: setUnlocked is refused with a DriverError, the strike unchanged', async () => {
    const r = await make();
    r.breakBoard();
    let code = 'accepted';
    const work = r.port.setUnlocked(true).catch((err: { code?: string; name?: string }) => {
      assert.is(err.name, 'DriverError');
      code = err.code ?? '';
    });
    await r.settle();
    await r.settle();
    await work;
    assert.is(code, 'I2C_NACK', 'the bus fault, after the driver retried');
    assert.not.ok(r.strikeEnergised());
  });

  contract.run();
}

// The driver's exact bus traffic: one whole-byte latch write per strike change, the contact read
// with the board's door poll at no bus cost of its own.
const transcript = suite('room door on the expander pins: bus transcripts');

// The strike driven and released around one push; the contact reads high (open) in both polls:
// two agreeing polls, no read of its own.
for (const [kind, name, lines] of [
  [
    'mcp23017',
    'MCP23017: the strike is one OLATA write each way; the contact is seen by the door poll alone',
    // GPA3 the strike; GPB3 the contact.
    [
      ['w', 0x20, 0x14, [0x08]],
      ['r', 0x20, 0x12, [0x7e, 0x7e]],
      ['r', 0x20, 0x12, [0x7e, 0x7e]],
      ['w', 0x20, 0x14, [0x00]],
    ],
  ],
  [
    'pcf8574',
    'PCF8574: the strike is one active-low port byte each way, inputs kept high',
    // P3 driven low = energised; P5, the contact, high (open); P1 (A01's door) low, closed.
    [
      ['w', 0x21, null, [0xf7]],
      ['r', 0x21, null, [0xf5]],
      ['r', 0x21, null, [0xf5]],
      ['w', 0x21, null, [0xff]],
    ],
  ],
] as const) {
  transcript(name, async () => {
    const r = await roomDoorRig(kind, 100);
    await r.clock.advance(250, settle);
    const bus = r.bank.buses.get(1)!;
    bus.resetTranscript();
    await r.door.setUnlocked(true);
    assert.ok(r.mechanism.push());
    await r.clock.advance(200, settle);
    await r.door.setUnlocked(false);
    assert.is(r.door.door(), 'open');
    assert.equal(bus.lines(), lines);
  });
}

transcript('a door already standing open when the driver starts is heard as open at the first poll', async () => {
  const heard: DoorState[] = [];
  const r = await roomDoorRig('mcp23017', 100, (mechanism, door) => {
    mechanism.force();
    door.onDoorChange((d) => heard.push(d));
    assert.is(door.door(), 'closed', 'not read yet');
  });
  await r.clock.advance(250, settle);
  assert.is(r.door.door(), 'open');
  assert.equal(heard, ['open'], 'door() said closed before: the actor must hear the change');
});

transcript.run();
