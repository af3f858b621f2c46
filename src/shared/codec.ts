/** @module codec — serialization in one place (msgpackr). */
import { Packr } from 'msgpackr';

export interface Codec {
  readonly contentType: string;
  encode(value: unknown): Buffer;
  decode<T = unknown>(buf: Uint8Array): T;
}

// Records off: rows are decoded across processes and restarts with no shared structure table.
const packr = new Packr({ useRecords: false, moreTypes: false });

export const msgpackCodec: Codec = {
  contentType: 'application/msgpack',
  encode: (value) => packr.pack(value),
  decode: <T>(buf: Uint8Array) => packr.unpack(buf) as T,
};
