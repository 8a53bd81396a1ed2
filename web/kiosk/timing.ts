/** How long the final screen stays before the panel is clean for the next person (after a pickup, a cancel or a timeout). */
export const DONE_MS = 8_000;
/** An outcome that asks the citizen to do something (go to the counter, start again) stays longer, to be read. */
export const DONE_WITH_ERROR_MS = 30_000;
