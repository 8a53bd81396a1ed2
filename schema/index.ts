import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import { countRootFields } from '../src/metrics.js';
import { withClientErrors, type ErrorLogger } from './errors.js';
import './box.js';
import './compartments.js';
import './pickups.js';
import './sessions.js';
import './alarms.js';
import './audit.js';
import './harness.js';
import './changes.js';
import './office.js';
import './room.js';

export type { Context, Role } from './builder.js';

const defaultLog: ErrorLogger = (error, where) => console.error(`[graphql] unexpected error in ${where}:`, error);
// One schema per process, so one sink for masked errors: the last server built with a logger sets it.
let errorLog: ErrorLogger = defaultLog;
let built: GraphQLSchema | undefined;

/**
 * The one schema of both servers. Built once: Pothos types are registered on import, and every
 * resolver is wrapped so domain errors keep their codes and everything else is masked as INTERNAL
 * (the real error goes to `log`).
 */
export function buildSchema(log?: ErrorLogger): GraphQLSchema {
  if (log) errorLog = log;
  built ??= countRootFields(withClientErrors(builder.toSchema(), (error, where) => errorLog(error, where)));
  return built;
}
