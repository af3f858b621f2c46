/** Minimal typings of autocannon 8 (it ships none), only what bench/http-start.ts uses. */
declare module 'autocannon' {
  interface Histogram {
    readonly average: number;
    readonly mean: number;
    readonly stddev: number;
    readonly min: number;
    readonly max: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p99_9: number;
  }
  export interface Result {
    readonly latency: Histogram;
    readonly requests: Histogram & { readonly total: number; readonly sent: number };
    readonly throughput: Histogram;
    readonly errors: number;
    readonly timeouts: number;
    /** 1xx + 3xx + 4xx + 5xx responses. */
    readonly non2xx: number;
    readonly '2xx': number;
    /** Seconds. */
    readonly duration: number;
  }
  export interface Options {
    readonly url: string;
    readonly method?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
    readonly connections?: number;
    readonly pipelining?: number;
    /** Seconds. */
    readonly duration?: number;
    /** Requests per second over all connections (a per-second quota per connection, not paced). */
    readonly overallRate?: number;
    /** Seconds. */
    readonly timeout?: number;
  }
  export default function autocannon(opts: Options): Promise<Result>;
}
