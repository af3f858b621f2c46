/** @module dashboard/session — the API key (localStorage) and the typed client that sends it as `authorization: Bearer`. */
import { ActorflowApiError, createClient } from '../../src/client/index.ts';

const STORAGE_KEY = 'actorflow.apiKey';

export type Client = ReturnType<typeof createClient>;

export function storedKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  if (key === null) localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, key);
}

/** A client of this page's origin with `key`. */
export function clientFor(key: string): Client {
  return createClient({ url: location.origin, key });
}

/** A 401 means the stored key is no longer good: the app goes back to key entry. */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof ActorflowApiError && err.status === 401;
}
