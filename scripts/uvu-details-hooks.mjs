// Module hook for scripts/uvu-details.mjs: rewrites one expression of uvu's failure report.
const FROM = "details.split('\\n')";
const TO = "(typeof details === 'string' ? details : JSON.stringify(details, null, 2)).split('\\n')";

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!/\/node_modules\/uvu\/dist\/index\.m?js$/.test(url) || result.source == null) return result;
  const source = String(result.source);
  // Another uvu version without this line: left as it is.
  return source.includes(FROM) ? { ...result, source: source.replace(FROM, TO) } : result;
}
