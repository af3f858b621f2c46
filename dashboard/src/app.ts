/** @module dashboard/app — what every page gets: the API client, the live socket, and the way back to key entry. */
import type { LiveSocket } from './live.ts';
import type { Client } from './session.ts';

export interface App {
  readonly api: Client;
  readonly live: LiveSocket;
  /** Reports an API error: a 401 signs out, anything else is shown by the caller. */
  readonly failed: (err: unknown) => void;
}

/** A page draws into `root` and returns its cleanup (unsubscribe, timers). */
export type Page = (root: HTMLElement, app: App, params: readonly string[]) => () => void;
