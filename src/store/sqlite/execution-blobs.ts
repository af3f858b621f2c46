/**
 * @module store/sqlite/execution-blobs — an execution's large input and inline definition, kept out of its row.
 *
 * Every commit of an unfinished execution updates its `executions` row (status, current steps, last seq), and
 * SQLite rewrites a row whole whenever its size changes, overflow pages included: with a 1 MiB input in the row,
 * a 10-step flow wrote 100–150 KiB more per step than it does now, and a 256 KiB input over 40 steps ~15 KiB more
 * per step (bench/RESULTS.md, sixteenth session). An input or inline definition of `BLOB_MIN_BYTES` or more is
 * written once, into `execution_blobs`, with the execution's first row; the row's column stays NULL. Smaller ones
 * stay in the row, where they cost nothing noticeable and need no second table write. Reads join the two and prefer
 * the blob (rows an older build wrote keep their values inline).
 */

/** From this many encoded bytes, an input or definition leaves the row (the snapshots' threshold, snapshot-refs.ts). */
export const BLOB_MIN_BYTES = 1024;

/** Written once per execution, with its first row (later rows carry no input or definition). */
export const PUT_BLOBS = 'INSERT OR REPLACE INTO execution_blobs (execution_id, big_input, big_definition) VALUES (?, ?, ?)';

/** `executions e` with its blobs: select `e.*` (or columns of `e`) and `BLOB_COLUMNS` from it. */
export const EXECUTIONS_WITH_BLOBS = 'executions e LEFT JOIN execution_blobs b ON b.execution_id = e.id';
export const BLOB_COLUMNS = 'b.big_input, b.big_definition';

/** What a row read through EXECUTIONS_WITH_BLOBS adds. */
export interface BlobColumns {
  big_input?: Buffer | null;
  big_definition?: Buffer | null;
}

const large = (b: Uint8Array | null): boolean => b !== null && b.byteLength >= BLOB_MIN_BYTES;

/**
 * The input and definition to write in the row of execution `id`: the large ones are left to a parameter row of
 * PUT_BLOBS pushed into `blobs` (and NULL in the row).
 */
export function splitBlobs(id: string, input: Uint8Array | null, definition: Uint8Array | null, blobs: unknown[][]): [Uint8Array | null, Uint8Array | null] {
  const bigInput = large(input);
  const bigDefinition = large(definition);
  if (!bigInput && !bigDefinition) return [input, definition];
  blobs.push([id, bigInput ? input : null, bigDefinition ? definition : null]);
  return [bigInput ? null : input, bigDefinition ? null : definition];
}
