/** @module api/auth/scopes — scope nesting: `admin` ⊃ `write` ⊃ `read`. */
import { Scope } from './types.ts';

const LEVEL: Readonly<Record<Scope, number>> = { read: 1, write: 2, admin: 3 };

/** True when `granted` covers `needed` (`admin` ⊃ `write` ⊃ `read`). */
export function scopeAllows(granted: Scope, needed: Scope): boolean {
  return LEVEL[granted] >= LEVEL[needed];
}

/** The widest of a list of scope names; undefined when none is known. */
export function widestScope(names: readonly unknown[]): Scope | undefined {
  let best: Scope | undefined;
  for (const n of names) {
    if (n !== Scope.read && n !== Scope.write && n !== Scope.admin) continue;
    if (best === undefined || LEVEL[n] > LEVEL[best]) best = n;
  }
  return best;
}
