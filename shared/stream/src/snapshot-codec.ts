import { createHash } from 'node:crypto';

/**
 * The wire format of an adaptation snapshot on `reco.adapters` (one Kafka message, keyed by
 * variant). Layout, little-endian:
 *
 *   "RSNP" | u16 format version | u32 header bytes | header JSON (UTF-8) | zero padding to 4 bytes | float32 data
 *
 * The header lists every tensor (name, shape, element offset) and carries the sha256 of the data
 * section, so a truncated or corrupted message is refused by the codec itself rather than
 * swapped into a serving replica. Whether the numbers are *sensible* (finite, the right shapes for
 * the live backbone, a newer version) is the receiver's check, not the codec's.
 */
export const SNAPSHOT_MAGIC = 'RSNP';
export const SNAPSHOT_FORMAT_VERSION = 1;

export interface SnapshotTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface SnapshotMeta {
  variant: string;
  method: string;
  /** Monotonic per variant. */
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
  /** Method hyper-parameters needed to rebuild the module (rank, width, ...). */
  config: Record<string, unknown>;
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

export function encodeSnapshot(snapshot: AdapterSnapshot): Buffer {
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
    const bytes = Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    bytes.copy(data, (entries[i]?.offset ?? 0) * 4);
  }
  const header: Header = { meta: snapshot.meta, tensors: entries, dataSha256: sha256(data) };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = 4 + 2 + 4;
  const padding = (4 - ((prefix + headerBytes.length) % 4)) % 4;
  const out = Buffer.alloc(prefix + headerBytes.length + padding + data.length);
  out.write(SNAPSHOT_MAGIC, 0, 'ascii');
  out.writeUInt16LE(SNAPSHOT_FORMAT_VERSION, 4);
  out.writeUInt32LE(headerBytes.length, 6);
  headerBytes.copy(out, prefix);
  data.copy(out, prefix + headerBytes.length + padding);
  return out;
}

export function decodeSnapshot(bytes: Buffer): AdapterSnapshot {
  if (bytes.length < 10 || bytes.toString('ascii', 0, 4) !== SNAPSHOT_MAGIC) throw new SnapshotFormatError('missing RSNP magic');
  const format = bytes.readUInt16LE(4);
  if (format !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotFormatError(`format version ${format}; this reader knows ${SNAPSHOT_FORMAT_VERSION}`);
  const headerLength = bytes.readUInt32LE(6);
  if (10 + headerLength > bytes.length) throw new SnapshotFormatError(`header of ${headerLength} bytes runs past the end of a ${bytes.length}-byte message`);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 10, 10 + headerLength)) as Header;
  } catch (error) {
    throw new SnapshotFormatError(`header is not JSON (${(error as Error).message})`);
  }
  const dataStart = 10 + headerLength + ((4 - ((10 + headerLength) % 4)) % 4);
  const data = bytes.subarray(dataStart);
  const expectedValues = header.tensors.reduce((sum, t) => sum + t.length, 0);
  if (data.length !== expectedValues * 4) throw new SnapshotFormatError(`data section is ${data.length} bytes, header lists ${expectedValues * 4}`);
  if (sha256(data) !== header.dataSha256) throw new SnapshotFormatError('data checksum mismatch (corrupted or truncated message)');
  // Copy into an aligned buffer: Float32Array views need 4-byte alignment of the byte offset.
  const aligned = new Float32Array(expectedValues);
  Buffer.from(aligned.buffer).set(data);
  const tensors = header.tensors.map((t) => {
    if (t.shape.reduce((a, b) => a * b, 1) !== t.length) throw new SnapshotFormatError(`tensor ${t.name} shape [${t.shape.join(',')}] does not hold ${t.length} values`);
    return { name: t.name, shape: t.shape, values: aligned.subarray(t.offset, t.offset + t.length) };
  });
  return { meta: header.meta, tensors };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
