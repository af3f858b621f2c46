/**
 * @module machine — `actorflow/machine`: XState v5 machines as workflows (docs/machines.md). Build the
 * machine with `setup()` from `xstate`, invoke `task(kind)` for steps, and export it from a module of the
 * machines directory as `machines: { <workflow name>: machine }`.
 *
 * Inside actions use `now()` and `random(key)` instead of `Date.now()` and `Math.random()`: the engine
 * restores a machine from its snapshot, and what an action computed must not depend on when it ran.
 */
export { task, now, random, executionId, TASK_DONE, TASK_FAILED } from '../common/code-machine.ts';
export type { TaskOptions, TaskError } from '../common/code-machine.ts';
