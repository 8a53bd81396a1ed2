import { DomainError } from '../../actors/domain/errors.js';
import { startFleetLink, redactUrl, type FleetBoxPort, type FleetLink } from './box-link.js';
import { startBoxWebhooks, type BoxWebhooks, type WebhookBoxPort } from './box-webhooks.js';
import { startCentral } from './central.js';
import { isBoxId } from './protocol.js';
import { createCentralServer } from './server.js';
import type { WebhookConfig } from './webhooks.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** `"fleet": { "url": "redis://…", "boxId": "ost-1" }` in a box's configuration (or AUSGABEBOX_FLEET_URL / AUSGABEBOX_BOX_ID). */
export interface FleetConfig {
  url: string;
  boxId: string;
}

/** `"central": { … }` in the central service's configuration. */
export interface CentralConfig {
  /** the fleet's Redis (or AUSGABEBOX_FLEET_URL) */
  redisUrl: string;
  /** the centre's own store: a keyv URL (default: the fleet Redis, namespace `central`) */
  storage?: string;
  silentAfterMs?: number;
  claimIdleMs?: number;
  commandTtlMs?: number;
  webhooks?: WebhookConfig[];
}

/** The box's fleet configuration, or null when the box runs alone. */
export function fleetConfigOf(config: { fleet?: unknown }, env: NodeJS.ProcessEnv): FleetConfig | null {
  const raw = (config.fleet ?? {}) as Partial<FleetConfig>;
  const url = env.AUSGABEBOX_FLEET_URL ?? raw.url;
  const boxId = env.AUSGABEBOX_BOX_ID ?? raw.boxId;
  if (url === undefined && boxId === undefined) return null;
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new DomainError('INVALID_CONFIG', 'fleet.url must be a redis:// or rediss:// URL');
  if (typeof boxId !== 'string' || !isBoxId(boxId)) throw new DomainError('INVALID_CONFIG', 'fleet.boxId must be 1–64 letters, digits, "-" or "_"');
  return { url, boxId };
}

/** Links a started box to the fleet when configured; the box serves either way. */
export async function linkBoxToFleet(box: FleetBoxPort, config: { fleet?: unknown }, env: NodeJS.ProcessEnv, log: Log): Promise<FleetLink | null> {
  const fleet = fleetConfigOf(config, env);
  if (!fleet) return null;
  const link = await startFleetLink(box, { ...fleet, log });
  log('info', `fleet: box ${fleet.boxId} publishes to ${redactUrl(fleet.url)} (outbox at ${link.outbox.lastSeq}, sent ${link.outbox.sentSeq})`);
  return link;
}

/**
 * Starts the box's own webhooks when `"webhooks": [{ id, url, secret, alarmAfter? }]` is configured;
 * event ids start with the fleet box id (or AUSGABEBOX_BOX_ID), else `box`.
 */
export async function startConfiguredBoxWebhooks(box: WebhookBoxPort, config: { fleet?: unknown; webhooks?: unknown }, env: NodeJS.ProcessEnv, log: Log): Promise<BoxWebhooks | null> {
  if (config.webhooks === undefined) return null;
  if (!Array.isArray(config.webhooks)) throw new DomainError('INVALID_CONFIG', 'webhooks must be a list of { id, url, secret }');
  const boxId = env.AUSGABEBOX_BOX_ID ?? (config.fleet as { boxId?: string } | undefined)?.boxId ?? 'box';
  const hooks = await startBoxWebhooks(box, { boxId, hooks: config.webhooks as WebhookConfig[], log });
  log('info', `webhooks: the box posts pickup events to ${hooks.outbox.hooks.map((h) => h.id).join(', ')}`);
  return hooks;
}

/** `npm start -- --central`: the central service and its GraphQL server, until SIGINT/SIGTERM. */
export async function runCentral(opts: { config: { central?: Partial<CentralConfig>; tokens?: { integration?: string; monitor?: string } }; env: NodeJS.ProcessEnv; port: number; host: string; production: boolean; log: Log }): Promise<void> {
  const c = opts.config.central ?? {};
  const redisUrl = opts.env.AUSGABEBOX_FLEET_URL ?? c.redisUrl;
  if (typeof redisUrl !== 'string' || !/^rediss?:\/\//.test(redisUrl)) throw new DomainError('INVALID_CONFIG', 'central.redisUrl (or AUSGABEBOX_FLEET_URL) must be a redis:// URL');
  const tokens = opts.config.tokens ?? {};
  if (opts.production && (!tokens.integration || !tokens.monitor)) throw new DomainError('INVALID_CONFIG', 'production needs tokens.integration and tokens.monitor for the central service');
  const central = await startCentral({ redisUrl, storage: c.storage, silentAfterMs: c.silentAfterMs, claimIdleMs: c.claimIdleMs, commandTtlMs: c.commandTtlMs, webhooks: c.webhooks, log: opts.log });
  const server = createCentralServer(central, { tokens, production: opts.production, logError: (error) => opts.log('error', 'unexpected error (masked for the client)', { err: String(error) }) });
  const { url } = await server.listen(opts.port, opts.host);
  opts.log('info', `central service: GraphQL at ${url}, consumer ${central.consumer}, fleet ${redactUrl(redisUrl)}`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(keepAlive);
    opts.log('info', `central service stopping (${signal})`);
    await server.close();
    await central.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
