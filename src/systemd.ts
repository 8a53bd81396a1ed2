import { execFile } from 'node:child_process';

// sd_notify for `Type=notify` units: READY=1 once the box serves, WATCHDOG=1 while it is ready
// (systemd restarts it when the pings stop), STOPPING=1 at a graceful stop. Node has no unix
// datagram sockets, so the messages go through systemd's own `systemd-notify` (the unit sets
// NotifyAccess=all, since the sender is a child process). Without NOTIFY_SOCKET nothing happens.

export interface Notifier {
  /** whether systemd asked for notifications */
  readonly active: boolean;
  ready(status?: string): Promise<void>;
  stopping(): Promise<void>;
  /** Pings the watchdog at half its interval while `healthy()` resolves true; returns the stop function. */
  watchdog(healthy: () => Promise<boolean>): () => void;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, program = 'systemd-notify'): Notifier {
  const active = Boolean(env.NOTIFY_SOCKET);
  const send = (...assignments: string[]): Promise<void> =>
    active
      ? new Promise((resolve) => {
          // A failed notification must not stop the box; systemd's timeouts report it.
          execFile(program, [`--pid=${process.pid}`, ...assignments], { env, timeout: 5_000 }, () => resolve());
        })
      : Promise.resolve();
  return {
    active,
    ready: (status) => send('READY=1', ...(status ? [`STATUS=${status}`] : [])),
    stopping: () => send('STOPPING=1'),
    watchdog(healthy) {
      const usec = Number(env.WATCHDOG_USEC);
      const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
      if (!active || !Number.isFinite(usec) || usec <= 0 || !forUs) return () => {};
      const timer = setInterval(() => {
        void healthy().then((ok) => (ok ? send('WATCHDOG=1') : undefined), () => undefined);
      }, Math.max(1_000, usec / 1_000 / 2));
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
