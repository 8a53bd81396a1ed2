import { execFileSync } from 'node:child_process';
import { suite, type Callback, type Test } from 'uvu';

/** A program a suite needs from the machine, with the line that installs it on Debian. */
export interface Needed {
  program: string;
  install: string;
}

/** Whether `program` is found on the PATH (or is an absolute path that exists and runs). */
export function hasProgram(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', program], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a suite cannot run here, or null when everything it needs is present. */
export function missing(needs: readonly Needed[]): string | null {
  const absent = needs.filter((n) => !hasProgram(n.program));
  if (absent.length === 0) return null;
  return `needs ${absent.map((n) => n.program).join(', ')} (install: ${absent.map((n) => n.install).join('; ')})`;
}

/**
 * A uvu suite that runs only where the programs it needs exist. On a newcomer's machine without
 * them every test of the suite is reported as skipped (and its hooks never run), with one line
 * `SKIP <suite>: <reason>` that the test runner collects for its summary. With `CI=true` a missing
 * program is not a reason to skip: the suite runs and fails loudly.
 */
export function suiteNeeding<T extends object = Record<string, never>>(name: string, needs: readonly Needed[], state?: T): Test<T> {
  const reason = process.env.CI === 'true' ? null : missing(needs);
  const real = suite<T>(name, state);
  if (reason === null) return real;
  console.log(`SKIP ${name}: ${reason}`);
  const noop = Object.assign(() => {}, { each: () => {} });
  const skipped = Object.assign((title: string, fn: Callback<T>) => real.skip(title, fn), {
    only: (title: string, fn: Callback<T>) => real.skip(title, fn),
    skip: real.skip,
    before: noop,
    after: noop,
    run: real.run,
  });
  return skipped as unknown as Test<T>;
}

export const REDIS: Needed = { program: 'redis-server', install: 'apt-get install redis-server' };
export const CHROMIUM: Needed = { program: 'chromium', install: 'apt-get install chromium' };
export const SYSTEMD_ANALYZE: Needed = { program: 'systemd-analyze', install: 'apt-get install systemd' };
export const SYSTEMD_NOTIFY: Needed = { program: 'systemd-notify', install: 'apt-get install systemd' };
export const SOCAT: Needed = { program: 'socat', install: 'apt-get install socat' };
