import { kioskSuite } from './kiosk-flows.js';

// German, easy language, English, Turkish: both ways to collect, axe on every screen.
kioskSuite('kiosk page on yoga (de, ls, en, tr)', 'yoga', ['de', 'ls', 'en', 'tr'], 0);
