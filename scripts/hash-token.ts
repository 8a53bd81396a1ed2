// Prints a new random token and the hashed form to put into the configuration's `tokens`.
// Run: npm run token:hash        (or: npm run token:hash -- <existing token>)
import { randomBytes } from 'node:crypto';
import { hashToken } from '../src/server/auth.js';

const token = process.argv[2] ?? randomBytes(24).toString('base64url');
console.log(`token (give it to the client):  ${token}`);
console.log(`config value (store this):      ${hashToken(token)}`);
