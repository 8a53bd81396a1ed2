#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { DomainError } from '../actors/domain/errors.js';
import { makeTd1 } from '../actors/domain/mrz.js';
import { SimulatedClock } from '../actors/runtime/clock.js';
import { createBox, type Box } from './box.js';
import { boxKeysOf, isDevelopmentKey, loadSettings, type BoxConfigInput } from './config.js';
import { linkBoxToFleet, runCentral, startConfiguredBoxWebhooks } from './fleet/cli.js';
import { readiness } from './health.js';
import { metricsFor } from './metrics.js';
import { createServer, type CorsOptions, type TokenConfig } from './server/index.js';
import { checkKioskClients } from './server/kiosk-binding.js';
import { systemdNotifier } from './systemd.js';

const HELP = `ausgabebox — orchestrator for ID-document pickup boxes

Usage: npm start -- [options]

Options:
  --server yoga|mercurius  GraphQL server (default yoga)
  --port N                 port of the GraphQL server (default 4000)
  --host ADDR              address to listen on (default 127.0.0.1)
  --data-dir DIR           where the SQLite file (and development tokens) live (default ./data)
  --config FILE            JSON configuration (layout, hours, windows, tokens, keys); see README
  --harness                enable the test-harness role (never in production)
  --simulated-clock        with --harness: run on a simulated clock that only advanceClock moves
  --demo                   run a scripted pickup on the simulated hardware first
  --central                run the fleet's central service instead of a box (see README, A city's fleet)
  --help                   show this text

Environment: AUSGABEBOX_CONFIG (a config file); AUSGABEBOX_<KEY> for the file's plain keys
(AUSGABEBOX_STORAGE, AUSGABEBOX_PIN_KEY, AUSGABEBOX_HOURS, AUSGABEBOX_PICKUP_WINDOW_DAYS, …; see the
README's configuration table) override the file. Unknown keys, options and variables are refused.
NODE_ENV=production turns off GraphiQL, introspection and generated tokens.
Without hardware configuration the box runs on simulated I2C boards. Stop it with Ctrl-C.`;

async function main(): Promise<void> {
  // The command line, the configuration file and the environment are checked together, before anything starts.
  const { values, file: fileConfig } = loadSettings({
    args: process.argv.slice(2),
    options: {
      server: { type: 'string', default: 'yoga' },
      port: { type: 'string', default: '4000' },
      host: { type: 'string', default: '127.0.0.1' },
      harness: { type: 'boolean', default: false },
      'simulated-clock': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: 'data' },
      config: { type: 'string' },
      demo: { type: 'boolean', default: false },
      central: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    env: process.env,
    readFile: (path) => readFileSync(resolve(path), 'utf8'),
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const log = pino({ name: 'ausgabebox', level: process.env.LOG_LEVEL ?? 'info' });
  const production = process.env.NODE_ENV === 'production';
  const engine = values.server as 'yoga' | 'mercurius';
  const port = Number(values.port);
  if (production && values.harness) throw new DomainError('INVALID_CONFIG', '--harness is not allowed in production');
  if (values['simulated-clock'] && !values.harness) throw new DomainError('INVALID_CONFIG', '--simulated-clock needs --harness');
  if (values.central) return runCentral({ config: fileConfig as Parameters<typeof runCentral>[0]['config'], env: process.env, port, host: values.host!, production, log: (level, msg, fields) => log[level](fields ?? {}, msg) });
  const dataDir = resolve(values['data-dir']!);
  const { tokens, tokenFile } = resolveTokens(fileConfig.tokens as TokenConfig | undefined, dataDir, production);
  const storage = fileConfig.storage ?? `sqlite://${join(dataDir, 'box.sqlite')}`;
  // The demo shows the whole flow at any hour: unless the configuration sets hours, it runs as the 24/7 room.
  const demoHours: BoxConfigInput = values.demo && fileConfig.hours === undefined && fileConfig.hoursPreset === undefined ? { hoursPreset: 'always' } : {};
  // A simulated clock starts at the wall time and moves only when the harness advances it.
  const clock = values['simulated-clock'] ? new SimulatedClock(Date.now()) : undefined;
  const box = await createBox({ ...boxKeysOf(fileConfig), ...demoHours, storage }, { ...(clock ? { clock } : {}), log: (level, msg, fields) => log[level](fields ?? {}, msg) });
  metricsFor(box); // counting from the start, before the demo or the first scrape
  const fleetLink = await linkBoxToFleet(box, fileConfig as { fleet?: unknown }, process.env, (level, msg, fields) => log[level](fields ?? {}, msg));
  const boxWebhooks = await startConfiguredBoxWebhooks(box, fileConfig as { fleet?: unknown; webhooks?: unknown }, process.env, (level, msg, fields) => log[level](fields ?? {}, msg));
  log.info(
    { compartments: box.config.compartments.length, storage, openNow: box.openNow(), hardware: box.config.hardware },
    `${box.config.name} started with ${box.config.compartments.length} compartments on ${describeHardware(box.config.hardware)}`,
  );
  if (production && isDevelopmentKey(box.config)) {
    await box.close();
    throw new DomainError('INVALID_CONFIG', 'production needs its own pinKey (AUSGABEBOX_PIN_KEY or "pinKey" in the configuration)');
  }
  if (isDevelopmentKey(box.config)) log.warn('using the development PIN key: set AUSGABEBOX_PIN_KEY or pinKey in the config for production');
  box.events.listen((e) => {
    if (e.type === 'alarm.raised') log.warn({ alarm: e.alarm }, 'alarm');
  });
  if (values.demo) await demo(box, log);
  const logAnchor = async () => {
    const head = await box.persistence.auditHead();
    log.info({ auditAnchor: `${head.seq}:${head.hash}` }, `audit anchor ${head.seq}:${head.hash} (keep it off the box; npm run audit:verify -- --anchor checks it)`);
  };
  await logAnchor();

  const kioskClients = checkKioskClients(fileConfig.kioskClients);
  const server = createServer(box, { tokens, cors: fileConfig.cors as CorsOptions | undefined, ...(kioskClients ? { kioskClients } : {}), harness: values.harness, production, engine, logError: (error) => log.error({ err: error }, 'unexpected error (masked for the client)') });
  const { url } = await server.listen(port, values.host);
  log.info({ url, server: engine, production, harness: values.harness }, `GraphQL (${engine}) at ${url} — health at ${url.replace(/\/graphql$/, '/health')}`);
  if (!production) {
    log.info(
      { tokens: tokenFile },
      `development: open ${url} in a browser for GraphiQL; role tokens (kiosk, staff, integration, monitor${values.harness ? ', harness' : ''}) are in ${tokenFile} — send them as "Authorization: Bearer <token>"`,
    );
  }

  // The box waits for people and hardware; keep the process alive until told to stop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  // Under systemd (Type=notify): ready once serving, watchdog pings while ready (src/systemd.ts).
  const systemd = systemdNotifier();
  const stopWatchdog = systemd.watchdog(async () => (await readiness(box)).ready);
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(keepAlive);
    stopWatchdog();
    await systemd.stopping();
    log.info({ signal }, 'stopping: closing connections, releasing outputs and flushing storage');
    await server.close();
    await logAnchor();
    await fleetLink?.close();
    await boxWebhooks?.close();
    await box.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  log.info('running — press Ctrl-C to stop');
  await systemd.ready(`${box.config.name}: ${box.config.compartments.length} compartments`);
}

/**
 * Tokens come from the configuration. In development, missing ones are generated once and kept in
 * DATA_DIR/dev-tokens.json (readable by the owner only); in production they must be configured.
 */
function resolveTokens(configured: TokenConfig | undefined, dataDir: string, production: boolean): { tokens: TokenConfig; tokenFile: string } {
  const tokenFile = join(dataDir, 'dev-tokens.json');
  if (production) {
    if (!configured) throw new DomainError('INVALID_CONFIG', 'production needs "tokens" in the configuration (see npm run token:hash)');
    return { tokens: configured, tokenFile: '' };
  }
  if (configured) return { tokens: configured, tokenFile: '(configuration)' };
  if (existsSync(tokenFile)) return { tokens: JSON.parse(readFileSync(tokenFile, 'utf8')) as TokenConfig, tokenFile };
  const fresh = () => randomBytes(18).toString('base64url');
  const tokens: TokenConfig = { kiosk: fresh(), staff: { 'staff-dev': fresh() }, integration: fresh(), monitor: fresh(), harness: fresh() };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(tokenFile, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  return { tokens, tokenFile };
}

function describeHardware(kind: string): string {
  if (kind === 'i2c') return 'the I2C lock boards of the layout';
  if (kind === 'i2c-sim') return 'simulated I2C lock boards (MCP23017, register level)';
  return 'simulated devices';
}

/** A scripted pickup on the simulated devices: what a day at the box looks like, in a few seconds. */
async function demo(box: Box, log: pino.Logger): Promise<void> {
  const world = box.world;
  if (!world) return;
  const sim = box.simulation;
  const reference = `DEMO-${Date.now().toString(36).toUpperCase()}`;
  /** Waits (in real time, as a person at the box would) until `done` holds; false after `ms`. */
  const until = async (done: () => boolean, ms = 5_000): Promise<boolean> => {
    for (const end = performance.now() + ms; !done(); ) {
      if (performance.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };
  const status = () => box.pickup(reference)?.status;
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: '1980-04-12', oldDocumentNumber: 'L01X00T47' });
  const { compartmentId } = await box.loadPickup(reference, 'staff-demo');
  await until(() => !world.latched(compartmentId));
  world.openDoor(compartmentId);
  await until(() => box.compartment(compartmentId)?.door === 'open');
  world.closeDoor(compartmentId);
  await until(() => /PIN: \d{6}/.test(sim.smsSent().at(-1)?.text ?? ''));
  const pin = /PIN: (\d{6})/.exec(sim.smsSent().at(-1)?.text ?? '')?.[1];
  log.info({ reference, compartmentId, status: status() }, 'demo: staff loaded a document, the SMS went out');
  if (!pin || !box.openNow()) {
    log.info('demo: the box is closed now (opening hours), so the kiosk part is skipped');
    return;
  }
  const { sessionId } = await box.startSession();
  await box.sessionInput(sessionId, { type: 'phone', phone: '0152 28817386' });
  const afterPin = await box.sessionInput(sessionId, { type: 'pin', pin });
  await box.sessionInput(sessionId, { type: 'factor', factor: afterPin.oldIdPossible ? 'oldId' : 'birthDate' });
  const card = { mrz: makeTd1({ documentNumber: 'L01X00T47', birthDate: '1980-04-12', expiryDate: '2030-01-31', surname: 'MUSTERMANN', givenNames: 'ERIKA' }) };
  await until(() => sim.insertCard(card)); // as soon as the slot takes cards
  await until(() => status() === 'RELEASING' && !world.latched(compartmentId));
  world.openDoor(compartmentId);
  await until(() => status() === 'COLLECTED');
  world.closeDoor(compartmentId);
  await until(() => box.compartment(compartmentId)?.door === 'closed');
  log.info({ reference, status: status(), session: box.session(sessionId)?.outcome ?? 'ended' }, 'demo: citizen authenticated with the old ID card, which was shredded; the door opened');
}

main().catch((error) => {
  console.error(error instanceof Error ? `${(error as { code?: string }).code ?? 'ERROR'}: ${error.message}` : error);
  process.exit(1);
});
