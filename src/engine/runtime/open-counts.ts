/**
 * @module engine/runtime/open-counts — non-terminal executions per tenant, kept in memory: a tenant's
 * `maxRunning` is checked on every start, which must not cost a store read.
 */
import { type ExecutionStatus, TERMINAL_STATUSES } from '../../common/execution.ts';

const isOpen = (s: ExecutionStatus): boolean => !TERMINAL_STATUSES.has(s);

/**
 * Counts seeded from the store at boot, then moved by the supervisor: +1 when an execution is
 * spawned, ±1 when its status crosses between open and terminal (a retry reopens), −1 when a start
 * is undone by a failed commit. Rebuilding a passivated execution changes nothing.
 */
export class OpenCounts {
  private readonly byTenant: Map<string, number>;

  constructor(initial: ReadonlyMap<string, number> = new Map()) {
    this.byTenant = new Map(initial);
  }

  of(tenant: string): number {
    return this.byTenant.get(tenant) ?? 0;
  }

  add(tenant: string, delta: number): void {
    const n = this.of(tenant) + delta;
    if (n <= 0) this.byTenant.delete(tenant);
    else this.byTenant.set(tenant, n);
  }

  /** A status change of one execution of `tenant`. */
  moved(tenant: string, from: ExecutionStatus, to: ExecutionStatus): void {
    if (isOpen(from) === isOpen(to)) return;
    this.add(tenant, isOpen(to) ? 1 : -1);
  }

  /** Whether an execution in status `s` is counted. */
  static counts(s: ExecutionStatus): boolean {
    return isOpen(s);
  }
}
