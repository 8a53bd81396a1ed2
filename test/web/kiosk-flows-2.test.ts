import { kioskSuite } from './kiosk-flows.js';

// Arabic (right to left), Ukrainian, Russian: both ways to collect, axe on every screen — on a
// production box, which takes only the page's persisted documents from a panel.
kioskSuite('kiosk page on mercurius in production (ar, uk, ru)', 'mercurius', ['ar', 'uk', 'ru'], 100, { production: true });
