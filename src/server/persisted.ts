import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Persisted (trusted) documents: the operations the box's own pages send, hashed at build time by
 * web/build.mjs into `web/dist/documents.json` ({ id: source }). A client sends the id
 * (`sha256:<hex>`) where the query text would go — the `query` of a graphql-ws subscribe message,
 * or `documentId` (or `query`) of an HTTP request — and the server runs the document it holds.
 * In production the kiosk role may send nothing else (src/server/http.ts, ws.ts): a panel that was
 * tampered with cannot run operations the page never had.
 */

export const DOCUMENT_ID = /^sha256:[0-9a-f]{64}$/;

/** The id of a document: `sha256:` and the hex SHA-256 of its exact source text. */
export const documentIdOf = (source: string): string => `sha256:${createHash('sha256').update(source, 'utf8').digest('hex')}`;

/** The file web/build.mjs writes beside the bundles. */
export const DOCUMENTS_FILE = 'documents.json';

/**
 * The persisted documents in `dir` (web/dist), each checked against its id; an entry whose text
 * does not hash to its id is an error (the file was edited by hand or damaged). No file: none.
 */
export function loadPersistedDocuments(dir: string): Map<string, string> {
  const file = join(dir, DOCUMENTS_FILE);
  const documents = new Map<string, string>();
  if (!existsSync(file)) return documents;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const [id, source] of Object.entries(parsed)) {
    if (typeof source !== 'string' || !DOCUMENT_ID.test(id) || documentIdOf(source) !== id) {
      throw new Error(`${file}: the entry ${JSON.stringify(id)} does not hash to its id; rebuild the pages with npm run build:web`);
    }
    documents.set(id, source);
  }
  return documents;
}
