import * as assert from 'uvu/assert';

/**
 * Polls `check` in real time (every 20 ms) until it holds, for at most `ms`; then fails with
 * `what`. `check` is not called again once it held, so a check that acts (a door opened in the
 * simulation) acts once.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) assert.unreachable(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
