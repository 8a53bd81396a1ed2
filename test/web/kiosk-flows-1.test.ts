import { kioskSuite } from './kiosk-flows.js';

// German, easy language, English, Turkish: both ways to collect, axe on every screen.
kioskSuite('kiosk page (de, ls, en, tr)', ['de', 'ls', 'en', 'tr'], 0);
