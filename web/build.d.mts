export declare const APPS: string[];
/** Builds every app that exists; returns the output sizes (bytes) by file name. */
export declare function buildWeb(options?: { outdir?: string; minify?: boolean }): Promise<Record<string, number>>;
