import type { ServerResponse } from 'node:http';
import { healthOf } from '../../schema/box.js';
import type { Box } from '../box.js';
import { OPS_PATHS, opsRoutes } from '../health.js';
import type { TokenConfig } from './auth.js';
import type { Route } from './http.js';

/** Writes the box health as JSON; 503 while a critical alarm is open. */
export function writeHealth(box: Box, res: ServerResponse): void {
  const health = healthOf(box);
  res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(health));
}

/**
 * The routes both servers serve besides `/graphql` and GraphiQL; add new ones here. `/health`
 * (application/health+json), `/health/ready`, `/health/live` and `/metrics` come from src/health.ts.
 */
export function boxRoutes(box: Box, tokens: TokenConfig): Route[] {
  const ops = opsRoutes(box, tokens);
  return OPS_PATHS.map((path) => ({
    method: 'GET' as const,
    path,
    handle: async (req, res) => {
      const r = (await ops('GET', path, req.headers.authorization))!;
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    },
  }));
}
