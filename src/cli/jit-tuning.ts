/**
 * @module cli/jit-tuning — how soon V8 compiles a function with its optimizing compiler.
 *
 * V8 counts the bytecode each function runs against an interrupt budget and optimizes a function after a
 * few budgets. A request runs many small functions once each, so at V8's default (67,584 bytes on Node 20)
 * they stay in the interpreter or the baseline compiler for thousands of requests: a fresh server's start
 * p50 was still falling after 2,000 sequential starts (bench/RESULTS.md, session of 2026-12-07). With a budget of
 * 8,192 they are optimized after a few hundred; starts 200–1,200 after boot took 1.24 ms (p50, median of 6
 * alternated fresh servers) against 1.50 ms, and throughput under load did not drop.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's `--interrupt-budget` of a server started by the CLI (`ACTORFLOW_V8_INTERRUPT_BUDGET`; 0: V8's own). */
export const DEFAULT_INTERRUPT_BUDGET = 8192;

/**
 * V8 before 12 (Node 20, the server's runtime) counts bytecode against the budget. V8 12 (Node 22) counts invocations
 * instead, with Maglev between the baseline compiler and TurboFan, and has no such flag.
 */
const COUNTS_BYTECODE = Number(process.versions.v8.split('.')[0]) < 12;

/**
 * Sets the budget for this process; V8 reads it whenever it refills a function's budget, so it applies from then on.
 * Returns false, and changes nothing, for 0 or on a V8 without the flag.
 */
export function applyInterruptBudget(bytes: number): boolean {
  if (bytes <= 0 || !COUNTS_BYTECODE) return false;
  setFlagsFromString(`--interrupt-budget=${Math.floor(bytes)}`);
  return true;
}
