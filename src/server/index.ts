import type { Box } from '../box.js';
import { createMercuriusServer } from './mercurius.js';
import type { GraphQLServer, ServerOptions } from './options.js';
import { createYogaServer } from './yoga.js';

export { createMercuriusServer } from './mercurius.js';
export { createYogaServer } from './yoga.js';
export type { GraphQLServer, ServerOptions } from './options.js';
export type { TokenConfig } from './auth.js';
export type { CorsOptions } from './http.js';

/** Builds (does not start) the GraphQL server: graphql-yoga by default, mercurius on request. */
export function createServer(box: Box, options: ServerOptions & { engine?: 'yoga' | 'mercurius' }): GraphQLServer {
  return options.engine === 'mercurius' ? createMercuriusServer(box, options) : createYogaServer(box, options);
}
