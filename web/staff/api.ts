import type { Client } from 'graphql-ws';
import { errorCodeOf, type ErrorCode } from '../shared/error-code.js';
import { request } from '../shared/graphql.js';

/**
 * The console's access to the box: sign-in through `/graphql/session` (the box answers with an
 * HttpOnly cookie, so the credential never sits in the page, its URL or its storage), and GraphQL
 * over the one graphql-ws connection that cookie authenticates.
 */

export type PageRole = 'staff' | 'monitor';
export interface Who {
  role: PageRole;
  identity: string;
}

const SESSION = '/graphql/session';

async function sessionCall(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<{ ok: boolean; status: number; data: any }> {
  const res = await fetch(SESSION, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, data };
}

/** Who is signed in in this browser session, or null. */
export async function whoAmI(): Promise<Who | null> {
  const r = await sessionCall('GET');
  return r.ok ? (r.data as Who) : null;
}

/** Signs in with a staff or monitor credential; resolves with who that is, or rejects with a message. */
export async function signIn(token: string): Promise<Who> {
  const r = await sessionCall('POST', { token });
  if (r.ok) return r.data as Who;
  throw new Error(r.status === 401 ? 'Dieser Zugangsschlüssel ist nicht gültig.' : (r.data?.errors?.[0]?.message ?? `Anmeldung fehlgeschlagen (${r.status})`));
}

/** Signs out: the box forgets the session and closes its connections. */
export async function signOut(): Promise<void> {
  await sessionCall('DELETE');
}

/** A GraphQL error with its stable catalog code. */
export class BoxError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The catalog code of what a staff action threw: a box error's own, INTERNAL for anything else (a lost connection). */
export const codeOfProblem = (err: unknown): ErrorCode => (err instanceof BoxError ? err.code : 'INTERNAL');

/** What a staff action threw, in the console's words: the message and its catalog code. */
export const problemText = (err: unknown): string => `${(err as Error).message} (${codeOfProblem(err)})`;

/** Runs a query or mutation; rejects with a BoxError carrying the first error's code. */
export async function gql<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await request<T>(client, query, variables);
  const problem = firstError(result.errors);
  if (problem) throw problem;
  return result.data as T;
}

/**
 * A read that may be answered in part: a stored value the box cannot serialise (a damaged record)
 * masks only its own field (null, with an error) and the rest still answers. Resolves with the data
 * and the first error, if any; rejects only when there is no data at all.
 */
export async function gqlPartial<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<{ data: T; problem: BoxError | null }> {
  const result = await request<T>(client, query, variables);
  const problem = firstError(result.errors);
  if (result.data == null) throw problem ?? new BoxError('INTERNAL', 'Die Box hat nicht geantwortet.');
  return { data: result.data, problem };
}

/** The first of a response's errors as a BoxError with its catalog code (INTERNAL without one); null when there is none. */
function firstError(errors: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> | undefined): BoxError | null {
  const first = errors?.[0];
  return first ? new BoxError(errorCodeOf(first), first.message) : null;
}
