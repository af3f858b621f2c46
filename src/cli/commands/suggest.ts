/** @module cli/commands/suggest — "did you mean …?" for a mistyped command, subcommand or option. */

/** Edit distance counting insertions, deletions, substitutions and swaps of two neighbours (`strat` → `start` is 1). */
export function editDistance(a: string, b: string): number {
  // Three rows of the optimal-string-alignment table are enough.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The candidate closest to `input` if it is close enough to be a typo (or `input` starts it), else undefined. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const typed = input.toLowerCase();
  // Short words tolerate one mistake; longer ones two or three.
  const limit = typed.length <= 3 ? 1 : typed.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = typed.length >= 3 && c.startsWith(typed) ? 0.5 : editDistance(typed, c.toLowerCase());
    if (d < bestD) (best = c), (bestD = d);
  }
  return bestD <= limit ? best : undefined;
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = (s: string) => `"${s}"`): string {
  const c = closest(input, candidates);
  return c === undefined ? '' : ` (did you mean ${quote(c)}?)`;
}
