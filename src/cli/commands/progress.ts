/** @module cli/commands/progress — progress of a long operation on stderr: a bar redrawn in place on a terminal, plain lines otherwise. */

export interface Progress {
  /** `done` of `total` so far, and what to say beside it. */
  update(done: number, detail: string): void;
  /** The last state, then a newline (a bar is left as it ended). */
  end(done: number, detail: string): void;
}

const WIDTH = 30;
/** Plain lines at most this often (a log file gets a line a second, not one per poll). */
const LINE_EVERY_MS = 1000;

export function progressOn(stream: NodeJS.WriteStream, total: number, now: () => number = Date.now): Progress {
  const pct = (done: number): number => (total === 0 ? 100 : Math.floor((done / total) * 100));
  if (stream.isTTY === true) {
    const draw = (done: number, detail: string): void => {
      const filled = total === 0 ? WIDTH : Math.round((done / total) * WIDTH);
      stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(pct(done)).padStart(3)}%  ${done}/${total}  ${detail}`);
    };
    return { update: draw, end: (done, detail) => (draw(done, detail), void stream.write('\n')) };
  }
  let last = '';
  let lastAt = -Infinity;
  const line = (done: number, detail: string, force: boolean): void => {
    const text = `${done}/${total} (${pct(done)}%) ${detail}`;
    if (text === last || (!force && now() - lastAt < LINE_EVERY_MS)) return;
    last = text;
    lastAt = now();
    stream.write(`${text}\n`);
  };
  return { update: (done, detail) => line(done, detail, false), end: (done, detail) => line(done, detail, true) };
}
