/** @module store/sqlite-db — promise wrappers over one `sqlite3` connection. */
import sqlite3 from 'sqlite3';

export type Params = unknown[];

export interface Db {
  readonly raw: sqlite3.Database;
  exec(sql: string): Promise<void>;
  run(sql: string, params?: Params): Promise<void>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  close(): Promise<void>;
}

export function openDb(path: string): Promise<Db> {
  return new Promise((resolve, reject) => {
    const raw = new sqlite3.Database(path, (err) => {
      if (err) return reject(err);
      resolve(wrap(raw));
    });
  });
}

function wrap(raw: sqlite3.Database): Db {
  return {
    raw,
    exec: (sql) => new Promise((res, rej) => raw.exec(sql, (e) => (e ? rej(e) : res()))),
    run: (sql, params = []) => new Promise((res, rej) => raw.run(sql, params, (e) => (e ? rej(e) : res()))),
    all: <T>(sql: string, params: Params = []) =>
      new Promise<T[]>((res, rej) => raw.all(sql, params, (e, rows) => (e ? rej(e) : res(rows as T[])))),
    get: <T>(sql: string, params: Params = []) =>
      new Promise<T | undefined>((res, rej) => raw.get(sql, params, (e, row) => (e ? rej(e) : res(row as T | undefined)))),
    close: () => new Promise((res, rej) => raw.close((e) => (e ? rej(e) : res()))),
  };
}
