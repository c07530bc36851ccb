import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError, type AdapterSnapshot } from './snapshot-codec.js';

function sample(): AdapterSnapshot {
  const odd = new Float32Array([1.5, -0, Number.MIN_VALUE, 3.4028234663852886e38, Math.PI, -1e-30]);
  return {
    meta: {
      variant: 'ladder',
      method: 'ladder',
      version: 7,
      backboneId: 'ab'.repeat(32),
      offsets: { '0': '120', '1': '98' },
      examplesTrained: 218,
      figures: { holdoutLoss: 2.5, liveHoldoutLoss: null },
      newestEventTs: Date.UTC(2026, 10, 1),
      publishedAt: Date.UTC(2026, 10, 1, 0, 0, 5),
      config: { reduction: 8 },
    },
    // Odd header lengths and sizes exercise the padding; special values exercise bit-exactness.
    tensors: [
      { name: 'side/down0', shape: [2, 3], values: odd },
      { name: 'gate', shape: [1], values: new Float32Array([0.25]) },
      { name: 'empty', shape: [0, 4], values: new Float32Array(0) },
    ],
  };
}

describe('snapshot codec', () => {
  it('round-trips metadata and tensors bit for bit', () => {
    const original = sample();
    const decoded = decodeSnapshot(encodeSnapshot(original));
    expect(decoded.meta).toEqual(original.meta);
    expect(decoded.tensors.map((t) => [t.name, t.shape])).toEqual(original.tensors.map((t) => [t.name, t.shape]));
    for (const [i, t] of decoded.tensors.entries()) {
      const want = original.tensors[i]?.values ?? new Float32Array();
      expect(Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  it('decodes from a buffer at an unaligned offset (as Kafka hands them out)', () => {
    const bytes = encodeSnapshot(sample());
    const shifted = Buffer.alloc(bytes.length + 1);
    bytes.copy(shifted, 1);
    expect(decodeSnapshot(shifted.subarray(1)).tensors[0]?.values[4]).toBe(Math.fround(Math.PI));
  });

  it.each([
    ['a flipped data byte', (b: Buffer) => { b[b.length - 3] = (b[b.length - 3] ?? 0) ^ 0xff; return b; }, 'checksum mismatch'],
    ['a truncated message', (b: Buffer) => b.subarray(0, b.length - 4), 'data section is'],
    ['a wrong magic', (b: Buffer) => { b.write('XXXX', 0, 'ascii'); return b; }, 'missing RSNP magic'],
    ['a future format', (b: Buffer) => { b.writeUInt16LE(99, 4); return b; }, 'format version 99'],
    ['a header length past the end', (b: Buffer) => { b.writeUInt32LE(1e9, 6); return b; }, 'runs past the end'],
  ])('refuses %s with a clear error', (_name, damage, message) => {
    const bytes = damage(encodeSnapshot(sample()));
    expect(() => decodeSnapshot(bytes)).toThrow(SnapshotFormatError);
    expect(() => decodeSnapshot(bytes)).toThrow(message);
  });

  it('refuses to encode a tensor whose shape does not match its values', () => {
    const bad = sample();
    bad.tensors[0] = { name: 'w', shape: [5], values: new Float32Array(4) };
    expect(() => encodeSnapshot(bad)).toThrow('tensor w has shape [5] but 4 values');
  });
});
