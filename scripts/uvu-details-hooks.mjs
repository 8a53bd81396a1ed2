// Module hooks for scripts/uvu-details.mjs: rewrite one expression of uvu's failure report.
const FROM = "details.split('\\n')";
const TO = '__uvuDetailsText(details).split(\'\\n\')';
/** Prepended to uvu's module: any `details` as text (JSON where it can be, else String). */
const HELPER =
  'function __uvuDetailsText(d) { if (typeof d === "string") return d; try { return JSON.stringify(d, null, 2) ?? String(d); } catch { return String(d); } }\n';

/** uvu's module with the report patched; anything else (or another uvu version without that line) as it is. */
export function patched(url, result) {
  if (!/\/node_modules\/uvu\/dist\/index\.m?js$/.test(url) || result.source == null) return result;
  const source = String(result.source);
  return source.includes(FROM) ? { ...result, source: HELPER + source.replace(FROM, TO) } : result;
}

/** The off-thread form (`module.register`, Node 20). */
export async function load(url, context, nextLoad) {
  return patched(url, await nextLoad(url, context));
}
