import { kioskSuite } from './kiosk-flows.js';

// Arabic (right to left), Ukrainian, Russian: both ways to collect, axe on every screen.
kioskSuite('kiosk page on mercurius (ar, uk, ru)', 'mercurius', ['ar', 'uk', 'ru'], 100);
