import { rejectionCode } from '../domain/assert-code.js';
import { register, type TestBox } from '../helpers.js';

/**
 * Registers `<prefix>-<from>`, `<prefix>-<from+1>`, … (at most up to `<prefix>-<max - 1>`) until
 * the store refuses one. Returns the refusal's code (null: none was refused), the reference
 * refused, and every reference acknowledged on the way.
 */
export async function registerUntilRefused(box: TestBox['box'], prefix: string, from: number, max: number): Promise<{ refused: string | null; failedReference: string; acknowledged: string[] }> {
  const acknowledged: string[] = [];
  for (let i = from; i < max; i++) {
    const reference = `${prefix}-${i}`;
    const refused = await rejectionCode(register(box, reference));
    if (refused !== null) return { refused, failedReference: reference, acknowledged };
    acknowledged.push(reference);
  }
  return { refused: null, failedReference: `${prefix}-${max - 1}`, acknowledged };
}
