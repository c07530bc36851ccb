import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SnapshotTrust } from './snapshot-key.js';

/**
 * The wire format of an adaptation snapshot on `reco.adapters` (one Kafka message, keyed by
 * variant). Layout, little-endian:
 *
 *   "RSNP" | u16 format (2) | u8 auth | u8 0 | u32 header bytes | header JSON (UTF-8)
 *          | zero padding to 4 bytes | float32 data | [32-byte HMAC-SHA256 tag when auth = 1]
 *
 * The tag covers every byte before it (format, header and data alike), so nothing in a message
 * can be changed without the key; it is checked before the header is even parsed, because the
 * header decides what serving allocates. auth = 0 is an unsigned message, written and accepted
 * only by services told explicitly to run insecurely. The header's sha256 of the data stays: it
 * tells a truncated message from a forged one in the refusal reason, and guards unsigned ones.
 *
 * Format 1 (no auth byte, no tag) came before signing; it decodes as unsigned, so a signed service
 * refuses it and an insecure one still reads what a broker kept from before.
 *
 * Size: a ladder snapshot of the default backbone with a 1,000-item side table is about 0.4 MB,
 * far under the topic's 16 MiB message limit (ADAPTER_SNAPSHOT_MAX_BYTES in @reco/stream).
 */
export const SNAPSHOT_MAGIC = 'RSNP';
export const SNAPSHOT_FORMAT_VERSION = 2;
const TAG_BYTES = 32;
const PREFIX_V2 = 4 + 2 + 1 + 1 + 4;
const PREFIX_V1 = 4 + 2 + 4;

export interface SnapshotTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** What a rollback record says it did: `restores` is the version whose parameters it carries again. */
export interface RollbackNote {
  /** The version that was live when the rollback was asked for (the one withdrawn). */
  from: number;
  /** The version whose parameters, offsets and figures this record carries again. */
  restores: number;
  /** Epoch ms of the request. */
  at: number;
}

export interface SnapshotMeta {
  variant: string;
  method: string;
  /** Monotonic per variant: every record of a variant, rollbacks too, has a higher one than the last. */
  version: number;
  /** sha256 of the backbone weights the parameters were trained against. */
  backboneId: string;
  /** Next offset to consume per events partition: everything before it is in these parameters. */
  offsets: Record<string, string>;
  examplesTrained: number;
  /** Validation figures at publish time (holdout losses, prequential HR@10...). */
  figures: Record<string, number | null>;
  /** Epoch ms of the newest event trained on, for freshness. */
  newestEventTs: number | null;
  publishedAt: number;
  /** Method hyper-parameters and side table: { options, sideCapacity, sideItemIds } (see snapshot-content.ts). */
  config: Record<string, unknown>;
  /** Present on a rollback record (published by serving's rollback route): see docs/snapshots.md. */
  rollback?: RollbackNote;
}

export interface AdapterSnapshot {
  meta: SnapshotMeta;
  tensors: SnapshotTensor[];
}

interface Header {
  meta: SnapshotMeta;
  tensors: Array<{ name: string; shape: number[]; offset: number; length: number }>;
  dataSha256: string;
}

export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(`invalid adapter snapshot: ${message}`);
    this.name = 'SnapshotFormatError';
  }
}

/** Why a message could not be opened; the first three labels of the refusal metric. */
export type OpenRefusal = 'unsigned' | 'bad_signature' | 'corrupt';

export type OpenedSnapshot = { ok: true; snapshot: AdapterSnapshot; signed: boolean; tag: string | undefined } | { ok: false; reason: OpenRefusal; message: string };

/** Encodes and, unless the trust is insecure, signs. The only way a snapshot message is made. */
export function sealSnapshot(snapshot: AdapterSnapshot, trust: SnapshotTrust): Buffer {
  let total = 0;
  const entries = snapshot.tensors.map((t) => {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.values.length) throw new SnapshotFormatError(`tensor ${t.name} has shape [${t.shape.join(',')}] but ${t.values.length} values`);
    const entry = { name: t.name, shape: [...t.shape], offset: total, length: t.values.length };
    total += t.values.length;
    return entry;
  });
  const data = Buffer.alloc(total * 4);
  for (const [i, t] of snapshot.tensors.entries()) {
    Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).copy(data, (entries[i]?.offset ?? 0) * 4);
  }
  const header: Header = { meta: snapshot.meta, tensors: entries, dataSha256: sha256(data) };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (4 - ((PREFIX_V2 + headerBytes.length) % 4)) % 4;
  const signed = trust.mode === 'signed';
  const bodyLength = PREFIX_V2 + headerBytes.length + padding + data.length;
  const out = Buffer.alloc(bodyLength + (signed ? TAG_BYTES : 0));
  out.write(SNAPSHOT_MAGIC, 0, 'ascii');
  out.writeUInt16LE(SNAPSHOT_FORMAT_VERSION, 4);
  out.writeUInt8(signed ? 1 : 0, 6);
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, PREFIX_V2);
  data.copy(out, PREFIX_V2 + headerBytes.length + padding);
  if (trust.mode === 'signed') hmac(trust.key, out.subarray(0, bodyLength)).copy(out, bodyLength);
  return out;
}

/**
 * Verifies, then decodes. With a key, a message that is unsigned or whose tag does not match is
 * refused before a byte of its header is read; without one (insecure), every well-formed message
 * is read. Never throws on any input.
 */
export function openSnapshot(bytes: Buffer | null, trust: SnapshotTrust): OpenedSnapshot {
  if (bytes === null) return { ok: false, reason: 'corrupt', message: 'empty message (a tombstone)' };
  if (bytes.length < PREFIX_V1 || bytes.toString('ascii', 0, 4) !== SNAPSHOT_MAGIC) return { ok: false, reason: 'corrupt', message: 'missing RSNP magic' };
  const format = bytes.readUInt16LE(4);
  if (format !== 1 && format !== SNAPSHOT_FORMAT_VERSION) return { ok: false, reason: 'corrupt', message: `format version ${format}; this reader knows 1 and ${SNAPSHOT_FORMAT_VERSION}` };
  const auth = format === 1 ? 0 : bytes.length >= PREFIX_V2 ? bytes.readUInt8(6) : -1;
  if (auth !== 0 && auth !== 1) return { ok: false, reason: 'corrupt', message: `unknown auth byte ${auth}` };
  let body = bytes;
  let tag: string | undefined;
  if (auth === 1) {
    if (bytes.length < PREFIX_V2 + TAG_BYTES) return { ok: false, reason: 'corrupt', message: 'signed message too short to hold its tag' };
    body = bytes.subarray(0, bytes.length - TAG_BYTES);
    const given = bytes.subarray(bytes.length - TAG_BYTES);
    tag = given.toString('hex');
    // Constant time: a byte-by-byte compare would tell a forger how much of a tag was right.
    if (trust.mode === 'signed' && !timingSafeEqual(hmac(trust.key, body), given)) {
      return { ok: false, reason: 'bad_signature', message: 'HMAC-SHA256 tag does not match (signed with another key, or altered)' };
    }
  } else if (trust.mode === 'signed') {
    return { ok: false, reason: 'unsigned', message: `unsigned message (format ${format}); this service verifies every snapshot` };
  }
  try {
    return { ok: true, snapshot: decodeBody(body, format === 1 ? PREFIX_V1 : PREFIX_V2), signed: auth === 1 && trust.mode === 'signed', tag };
  } catch (error) {
    return { ok: false, reason: 'corrupt', message: (error as Error).message };
  }
}

function decodeBody(bytes: Buffer, prefix: number): AdapterSnapshot {
  const headerLength = bytes.readUInt32LE(prefix - 4);
  if (prefix + headerLength > bytes.length) throw new SnapshotFormatError(`header of ${headerLength} bytes runs past the end of a ${bytes.length}-byte message`);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', prefix, prefix + headerLength)) as Header;
  } catch (error) {
    throw new SnapshotFormatError(`header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || typeof header.meta !== 'object' || header.meta === null || !Array.isArray(header.tensors)) {
    throw new SnapshotFormatError('header lacks meta or tensors');
  }
  const dataStart = prefix + headerLength + ((4 - ((prefix + headerLength) % 4)) % 4);
  const data = bytes.subarray(dataStart);
  let expectedValues = 0;
  for (const t of header.tensors) {
    const fits = typeof t === 'object' && t !== null && typeof t.name === 'string' && Array.isArray(t.shape) && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
    if (!fits || !Number.isSafeInteger(t.offset) || !Number.isSafeInteger(t.length) || t.offset !== expectedValues) throw new SnapshotFormatError('header lists a tensor out of order or without name and shape');
    if (t.shape.reduce((a, b) => a * b, 1) !== t.length) throw new SnapshotFormatError(`tensor ${t.name} shape [${t.shape.join(',')}] does not hold ${t.length} values`);
    expectedValues += t.length;
  }
  if (data.length !== expectedValues * 4) throw new SnapshotFormatError(`data section is ${data.length} bytes, header lists ${expectedValues * 4}`);
  if (sha256(data) !== header.dataSha256) throw new SnapshotFormatError('data checksum mismatch (corrupted or truncated message)');
  // Copy into an aligned buffer: Float32Array views need 4-byte alignment of the byte offset.
  const aligned = new Float32Array(expectedValues);
  Buffer.from(aligned.buffer).set(data);
  const tensors = header.tensors.map((t) => ({ name: t.name, shape: t.shape, values: aligned.subarray(t.offset, t.offset + t.length) }));
  return { meta: header.meta, tensors };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}
