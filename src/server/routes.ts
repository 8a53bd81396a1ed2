import type { ServerResponse } from 'node:http';
import { healthOf } from '../../schema/box.js';
import type { Box } from '../box.js';
import type { Route } from './http.js';

/** Writes the box health as JSON; 503 while a critical alarm is open. */
export function writeHealth(box: Box, res: ServerResponse): void {
  const health = healthOf(box);
  res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(health));
}

/** The routes both servers serve besides `/graphql` and GraphiQL; add new ones here. */
export function boxRoutes(box: Box): Route[] {
  return [{ method: 'GET', path: '/health', handle: (_req, res) => writeHealth(box, res) }];
}
