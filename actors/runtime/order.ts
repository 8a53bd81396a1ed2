/**
 * Ids and addresses in natural order: `pickup/P9` before `pickup/P10`, `A07` before `A10` (the
 * order `localeCompare(…, 'en', { numeric: true })` gives). One collator for all: `localeCompare`
 * with options makes one per call, which took 4.7 s to sort 50,000 pickup actors (0.25 s this way).
 */
export const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;
