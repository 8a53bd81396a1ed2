/**
 * The only file that touches the `serialport` native module. It is imported lazily, so the box
 * runs where the module cannot load (the simulated reader needs none of it).
 */
import { existsSync } from 'node:fs';
import { DriverError } from '../ports.js';
import type { SerialLine, SerialSettings } from './port.js';

/** How often the device node is looked for while the line is open (real time: this is the real device). */
const DEVICE_WATCH_MS = 500;

/** Opens the serial device and adapts it to the serial-line port. Rejects with READER_UNAVAILABLE. */
export async function openSerialLine(settings: SerialSettings): Promise<SerialLine> {
  let port: import('serialport').SerialPort;
  try {
    const { SerialPort } = await import('serialport');
    port = new SerialPort({ ...settings, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw new DriverError('READER_UNAVAILABLE', `cannot open serial device ${settings.path}: ${(err as Error).message}`);
  }
  const closeListeners = new Set<() => void>();
  let closing = false;
  let gone = false;
  const lost = () => {
    if (closing || gone) return;
    gone = true;
    clearInterval(watch);
    for (const l of closeListeners) l();
    if (port.isOpen) port.close(() => {});
  };
  // An unplugged USB adapter or a vanished pty closes the port with `disconnected` set.
  port.on('close', lost);
  // The binding notices a vanished device only when its poller wakes up; the device node going
  // away (USB unplugged, pty closed) is noticed here within a second whatever the line is doing.
  const watch = setInterval(() => {
    if (!existsSync(settings.path)) lost();
  }, DEVICE_WATCH_MS);
  watch.unref();
  // Errors after opening surface as a close; without a listener they would crash the process.
  port.on('error', () => {});
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (!port.isOpen) return reject(new DriverError('READER_DISCONNECTED', `serial device ${settings.path} is not open`));
        port.write(Buffer.from(bytes), (err) => {
          if (err) return reject(new DriverError('READER_DISCONNECTED', `write to ${settings.path} failed: ${err.message}`));
          port.drain((e) => (e ? reject(new DriverError('READER_DISCONNECTED', `write to ${settings.path} failed: ${e.message}`)) : resolve()));
        });
      }),
    onData(listener) {
      port.on('data', listener);
      return () => port.off('data', listener);
    },
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        clearInterval(watch);
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
