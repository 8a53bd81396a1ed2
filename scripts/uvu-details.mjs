// Preloaded into every test process (scripts/test.mjs): uvu prints a failed test's `details` as a
// string, but the box's DomainError carries `details` as an object (the code's context). uvu's
// report then threw on it: the failure printed no reason, and the file's later tests did not run.
// This hook hands uvu's report such details as JSON (where uvu is imported as an ES module, as
// the project's tests import it). It changes only how a failure is printed.
import { register } from 'node:module';

register('./uvu-details-hooks.mjs', import.meta.url);
