import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snapshotTrust, type SnapshotTrust } from './snapshot-key.js';
import { openSnapshot, sealSnapshot, type AdapterSnapshot, type OpenedSnapshot } from './snapshot-wire.js';

const key = randomBytes(32);
const signed: SnapshotTrust = { mode: 'signed', key };
const insecure: SnapshotTrust = { mode: 'insecure' };

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

function opened(result: OpenedSnapshot): AdapterSnapshot {
  if (!result.ok) throw new Error(`refused: ${result.reason}: ${result.message}`);
  return result.snapshot;
}

/** A format-1 message as written before signing existed (no auth byte, no tag). */
function legacyV1(snapshot: AdapterSnapshot): Buffer {
  const v2 = sealSnapshot(snapshot, insecure);
  const headerLength = v2.readUInt32LE(8);
  const header = v2.subarray(12, 12 + headerLength);
  const data = v2.subarray(12 + headerLength + ((4 - ((12 + headerLength) % 4)) % 4));
  const padding = (4 - ((10 + headerLength) % 4)) % 4;
  const out = Buffer.alloc(10 + headerLength + padding + data.length);
  out.write('RSNP', 0, 'ascii');
  out.writeUInt16LE(1, 4);
  out.writeUInt32LE(headerLength, 6);
  header.copy(out, 10);
  data.copy(out, 10 + headerLength + padding);
  return out;
}

describe('snapshot wire format and signature', () => {
  it('round-trips metadata and tensors bit for bit, signed', () => {
    const original = sample();
    const result = openSnapshot(sealSnapshot(original, signed), signed);
    expect(result).toMatchObject({ ok: true, signed: true });
    const decoded = opened(result);
    expect(decoded.meta).toEqual(original.meta);
    expect(decoded.tensors.map((t) => [t.name, t.shape])).toEqual(original.tensors.map((t) => [t.name, t.shape]));
    for (const [i, t] of decoded.tensors.entries()) {
      const want = original.tensors[i]?.values ?? new Float32Array();
      expect(Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  it('decodes from a buffer at an unaligned offset (as Kafka hands them out)', () => {
    const bytes = sealSnapshot(sample(), signed);
    const shifted = Buffer.alloc(bytes.length + 1);
    bytes.copy(shifted, 1);
    expect(opened(openSnapshot(shifted.subarray(1), signed)).tensors[0]?.values[4]).toBe(Math.fround(Math.PI));
  });

  it('refuses a message signed with another key', () => {
    const other = snapshotTrust(randomBytes(32).toString('hex'), false);
    expect(openSnapshot(sealSnapshot(sample(), other), signed)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['a flipped data byte', (b: Buffer) => void (b[b.length - 40] = (b[b.length - 40] ?? 0) ^ 0x01)],
    ['a changed version in the header', (b: Buffer) => void b.write(b.toString('latin1').replace('"version":7', '"version":9'), 0, 'latin1')],
    ['a flipped tag byte', (b: Buffer) => void (b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0x80)],
    ['the auth byte cleared (downgrade to unsigned)', (b: Buffer) => void b.writeUInt8(0, 6)],
  ])('refuses %s: the tag covers the whole message', (what, damage) => {
    const bytes = sealSnapshot(sample(), signed);
    damage(bytes);
    const result = openSnapshot(bytes, signed);
    expect(result.ok, what).toBe(false);
    expect(result.ok ? undefined : result.reason).toMatch(/^(bad_signature|unsigned|corrupt)$/);
    // A downgrade is an unsigned message to a signed reader; any other change breaks the tag.
    if (what.startsWith('the auth')) expect(result).toMatchObject({ reason: 'unsigned' });
    else expect(result).toMatchObject({ reason: 'bad_signature' });
  });

  it.each([
    ['cut in the data', (b: Buffer) => b.subarray(0, b.length - 40)],
    ['cut inside the header', (b: Buffer) => b.subarray(0, 30)],
    ['cut to a few bytes', (b: Buffer) => b.subarray(0, 5)],
    ['empty', () => Buffer.alloc(0)],
  ])('refuses a truncated message (%s) without throwing', (_what, cut) => {
    const result = openSnapshot(cut(sealSnapshot(sample(), signed)), signed);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.reason).toMatch(/^(bad_signature|corrupt)$/);
  });

  it('refuses unsigned messages, and format-1 ones from before signing, when a key is configured', () => {
    expect(openSnapshot(sealSnapshot(sample(), insecure), signed)).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(openSnapshot(legacyV1(sample()), signed)).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(openSnapshot(null, signed)).toMatchObject({ ok: false, reason: 'corrupt' });
  });

  it('reads unsigned, signed and format-1 messages in insecure mode, still checking integrity', () => {
    expect(opened(openSnapshot(sealSnapshot(sample(), insecure), insecure)).meta.version).toBe(7);
    expect(openSnapshot(sealSnapshot(sample(), signed), insecure)).toMatchObject({ ok: true, signed: false });
    expect(opened(openSnapshot(legacyV1(sample()), insecure)).tensors[0]?.values[4]).toBe(Math.fround(Math.PI));
    const bytes = sealSnapshot(sample(), insecure);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0xff;
    const result = openSnapshot(bytes, insecure);
    expect(result).toMatchObject({ ok: false, reason: 'corrupt' });
    expect(result.ok ? '' : result.message).toContain('checksum mismatch');
  });

  it.each([
    ['a wrong magic', (b: Buffer) => void b.write('XXXX', 0, 'ascii'), 'missing RSNP magic'],
    ['a future format', (b: Buffer) => void b.writeUInt16LE(99, 4), 'format version 99'],
    ['a header length past the end', (b: Buffer) => void b.writeUInt32LE(1e9, 8), 'runs past the end'],
  ])('refuses %s as corrupt, naming it', (_what, damage, message) => {
    const bytes = sealSnapshot(sample(), insecure);
    damage(bytes);
    const result = openSnapshot(bytes, insecure);
    expect(result).toMatchObject({ ok: false, reason: 'corrupt' });
    expect(result.ok ? '' : result.message).toContain(message);
  });

  it('refuses to encode a tensor whose shape does not match its values', () => {
    const bad = sample();
    bad.tensors[0] = { name: 'w', shape: [5], values: new Float32Array(4) };
    expect(() => sealSnapshot(bad, signed)).toThrow('tensor w has shape [5] but 4 values');
  });
});

describe('snapshot trust from the environment', () => {
  it('takes a hex key of 32 bytes or more, or an explicit insecure flag, and nothing else', () => {
    const hex = randomBytes(32).toString('hex');
    expect(snapshotTrust(hex, false)).toEqual({ mode: 'signed', key: Buffer.from(hex, 'hex') });
    expect(snapshotTrust(` ${hex.toUpperCase()}\n`, false)).toMatchObject({ mode: 'signed' });
    expect(snapshotTrust(undefined, true)).toEqual({ mode: 'insecure' });
    expect(() => snapshotTrust(undefined, false)).toThrow(/RECO_SNAPSHOT_KEY is not set.*RECO_SNAPSHOT_INSECURE=1/);
    expect(() => snapshotTrust('', false)).toThrow(/RECO_SNAPSHOT_KEY is not set/);
    expect(() => snapshotTrust(randomBytes(31).toString('hex'), false)).toThrow('RECO_SNAPSHOT_KEY is 31 bytes; at least 32');
    expect(() => snapshotTrust('zz'.repeat(32), false)).toThrow(/hexadecimal/);
    expect(() => snapshotTrust(hex, true)).toThrow(/both set/);
  });
});
