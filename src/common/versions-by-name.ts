/** @module common/versions-by-name — versioned rows held in memory by tenant and name (definitions, templates). */

/** The rows of each (tenant, name), versions ascending. */
export class VersionsByName<T extends { readonly tenant: string; readonly name: string; readonly version: number }> {
  private readonly byTenant = new Map<string, Map<string, T[]>>();

  /** Adds stored rows, in any order: each name's versions end up ascending. */
  load(rows: readonly T[]): void {
    for (const r of rows) this.of(r.tenant, r.name, true).push(r);
    for (const m of this.byTenant.values()) for (const v of m.values()) v.sort((a, b) => a.version - b.version);
  }

  /** The versions of (tenant, name), ascending; [] when none. With `create`, the list kept: push a higher version to it. */
  of(tenant: string, name: string, create = false): T[] {
    let t = this.byTenant.get(tenant);
    if (!t) {
      if (!create) return [];
      this.byTenant.set(tenant, (t = new Map()));
    }
    let v = t.get(name);
    if (!v) {
      if (!create) return [];
      t.set(name, (v = []));
    }
    return v;
  }

  /** How many names `tenant` has. */
  count(tenant: string): number {
    return this.byTenant.get(tenant)?.size ?? 0;
  }

  /** A page of `tenant`'s names that `keep` keeps, sorted; the cursor is the last name of the page before. */
  page(tenant: string, keep: (name: string, versions: readonly T[]) => boolean, page: { readonly limit: number; readonly cursor?: string | undefined }): { names: string[]; nextCursor: string | null } {
    const names = [...(this.byTenant.get(tenant)?.entries() ?? [])].filter(([n, v]) => keep(n, v)).map(([n]) => n).sort();
    const start = page.cursor ? names.findIndex((n) => n > (page.cursor as string)) : 0;
    const slice = start < 0 ? [] : names.slice(start, start + page.limit);
    const more = start >= 0 && start + page.limit < names.length;
    return { names: slice, nextCursor: more ? (slice[slice.length - 1] ?? null) : null };
  }
}
