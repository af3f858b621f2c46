/** @module store/resources/http-agents — the rows and the store interface of HTTP push agents (re-exported by store/types.ts). */

/** An HTTP push agent: steps of its kinds, of its tenant, are POSTed to `url` (src/http-agents). */
export interface HttpAgentRow {
  id: string;
  tenant: string;
  name: string;
  kinds: string[];
  url: string;
  /** HMAC key of `x-actorflow-signature`; never shown by the API after registration. */
  secret: string;
  /** Tasks it is sent at once at most (answered or not). */
  concurrency: number;
  /** How long an answer, a result or the next heartbeat may take. */
  timeoutMs: number;
  createdAt: number;
}

/** Registrations of HTTP push agents (the service keeps them in memory). */
export interface HttpAgentStore {
  /** Every HTTP agent of every tenant, by id. */
  listHttpAgents(): Promise<HttpAgentRow[]>;
  insertHttpAgent(row: HttpAgentRow): Promise<void>;
  deleteHttpAgent(id: string): Promise<void>;
}
