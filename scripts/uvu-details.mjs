// Preloaded into every test process (scripts/test.mjs): uvu prints a failed test's `details` as a
// string, but the box's DomainError carries `details` as an object (the code's context). uvu's
// report then threw on it: the failure printed no reason, and the file's later tests did not run.
// This hook hands uvu's report such details as JSON (where uvu is imported as an ES module, as
// the project's tests import it). It changes only how a failure is printed.
import * as module from 'node:module';
import { patched } from './uvu-details-hooks.mjs';

if (typeof module.registerHooks === 'function') {
  // Node 22.15+ and 24: in this thread (module.register is deprecated there, and would start a
  // hooks thread for this alone).
  module.registerHooks({ load: (url, context, nextLoad) => patched(url, nextLoad(url, context)) });
} else {
  module.register('./uvu-details-hooks.mjs', import.meta.url);
}
