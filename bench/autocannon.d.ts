// autocannon ships no types; bench/cannon.ts uses only its promise API.
declare module 'autocannon' {
  function autocannon(options: Record<string, unknown>): Promise<any>;
  export default autocannon;
}
