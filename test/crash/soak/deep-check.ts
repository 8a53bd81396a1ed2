/**
 * The soak's deep check, on a copy of the box's files: a box starts on the copy with the physical
 * world as the ledger left it, time runs past every pickup window, staff take every way out the
 * API offers (clear faults, retrieve what is in a compartment, cancel the rest), and then every
 * compartment must take a new document and every kiosk a new session.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../../../actors/runtime/clock.js';
import { createBox, simulatedHardware } from '../../../src/box.js';
import { resolveConfig } from '../../../src/config.js';
import { clearFaults } from './staff.js';
import { phoneOf, SOAK_BIRTH, SOAK_DAY_MS, SOAK_KIOSKS, soakConfig, type World } from './world.js';

export interface DeepFindings {
  /** pickups not in a final or waiting state after expiry, or not ended by the staff sweep */
  stuck: string[];
  /** compartments that could not be assigned to a new pickup after the sweep */
  lost: string[];
  deadKiosks: string[];
  /** compartments given to a new pickup while a document lay inside */
  assignedWhileHolding: string[];
}

const WAITING = new Set(['REGISTERED', 'EXPIRED', 'CANCELLED', 'COLLECTED', 'RETURNED']);

export async function deepCheck(dir: string, world: World, label: string): Promise<DeepFindings> {
  const copy = mkdtempSync(join(tmpdir(), 'ausgabebox-soak-check-'));
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(join(dir, `box.sqlite${suffix}`))) copyFileSync(join(dir, `box.sqlite${suffix}`), join(copy, `box.sqlite${suffix}`));
  }
  const found: DeepFindings = { stuck: [], lost: [], deadKiosks: [], assignedWhileHolding: [] };
  const contents: Record<string, string[]> = structuredClone(world.contents);
  const clock = new SimulatedClock(world.now + 60_000);
  const input = soakConfig(`sqlite://${join(copy, 'box.sqlite')}`);
  const hw = simulatedHardware(resolveConfig(input), clock);
  for (const [c, door] of Object.entries(world.doors)) if (door === 'open') hw.locks.forceDoor(c);
  const box = await createBox(input, { clock, hardware: hw });
  const code = (error: unknown) => String((error as { code?: unknown })?.code ?? error);
  try {
    await box.idle();
    for (const [c, door] of Object.entries(world.doors)) if (door === 'open') hw.locks.closeDoor(c);
    await box.idle();
    // Every window, expiry, reminder and purge falls due.
    await box.advance(2 * SOAK_DAY_MS);
    for (const p of box.pickups()) if (!WAITING.has(p.status)) found.stuck.push(`${p.reference} still ${p.status} after its window`);

    // Staff take every way out the API offers.
    await clearFaults(box, contents, () => {}, 'staff-check');
    for (const c of box.compartments()) if (!c.inService) await box.setCompartmentService(c.id, true, 'staff-check').catch(() => {});
    await box.idle();
    for (const p of box.pickups()) {
      if (p.endedAt !== null) continue;
      try {
        if (p.compartmentId) {
          const c = p.compartmentId;
          await box.retrievePickup(p.reference, 'staff-check');
          await box.idle();
          if (hw.locks.openDoor(c)) {
            contents[c] = [];
            await box.idle();
            hw.locks.closeDoor(c);
          }
        } else {
          await box.cancelPickup(p.reference, 'staff-check');
        }
      } catch (error) {
        found.stuck.push(`${p.reference} (${p.status}) refused its way out: ${code(error)}`);
      }
      await box.idle();
    }
    await box.advance(60_000);
    for (const p of box.pickups()) if (p.endedAt === null) found.stuck.push(`${p.reference} still ${p.status} after staff retrieved or cancelled it`);

    // Every compartment takes a new document; none that holds one is given out.
    const assigned = new Set<string>();
    const compartments = box.compartments();
    for (let i = 0; i < compartments.length + 1; i++) {
      const reference = `CHK-${label}-${i}`;
      try {
        await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: phoneOf(9_000_000 + i), birthDate: SOAK_BIRTH });
        const { compartmentId: c } = await box.loadPickup(reference, 'staff-check');
        if ((contents[c] ?? []).length > 0) found.assignedWhileHolding.push(`${c} given to ${reference} while holding ${contents[c]!.join(', ')}`);
        assigned.add(c);
        await box.idle();
        if (hw.locks.openDoor(c)) {
          contents[c] = [reference];
          await box.idle();
          hw.locks.closeDoor(c);
        }
        await box.idle();
      } catch (error) {
        if (code(error) !== 'NO_FITTING_COMPARTMENT') found.lost.push(`loading ${reference}: ${code(error)}`);
        break;
      }
    }
    for (const c of box.compartments()) if (!assigned.has(c.id)) found.lost.push(`${c.id} (${c.state}${c.fault ? `, ${c.fault}` : ''}) not assignable after the sweep`);

    for (const k of SOAK_KIOSKS) {
      try {
        const { sessionId } = await box.startSession(k);
        await box.idle();
        await box.sessionInput(sessionId, { type: 'cancel' });
      } catch (error) {
        found.deadKiosks.push(`${k}: ${code(error)}`);
      }
      await box.idle();
    }
  } finally {
    await box.close();
    rmSync(copy, { recursive: true, force: true });
  }
  return found;
}
