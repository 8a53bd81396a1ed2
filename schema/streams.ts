/** Subscriptions read AsyncIterables built on the box's hubs (see actors/runtime/hub.ts). */
export { pushed } from '../actors/runtime/hub.js';
