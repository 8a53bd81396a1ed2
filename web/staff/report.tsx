import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { problemText } from './api.js';

/** What a staff action reports back: its outcome in words, and whether it failed. */
export interface Report {
  text: string;
  error: boolean;
}

/** A report of success. */
export const succeeded = (text: string): Report => ({ text, error: false });

/** A report of failure: what was thrown, in words, with its catalog code. */
export const failed = (err: unknown): Report => ({ text: problemText(err), error: true });

/** A view's latest report (none at first). */
export const useReport = () => useState<Report | null>(null);

/** Where a view's reports are read out (a polite live region): the latest one, then `children`. */
export function ReportLine({ report, children }: { report: Report | null; children?: ComponentChildren }) {
  return (
    <div role="status" aria-live="polite">
      {report && <p class={report.error ? 'error' : 'ok'}>{report.text}</p>}
      {children}
    </div>
  );
}
