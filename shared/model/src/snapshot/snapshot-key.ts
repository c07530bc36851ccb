/**
 * How a service treats snapshot signatures: with the shared key (sign what it publishes, refuse
 * what does not verify), or insecure (a development mode that must be asked for by name, because
 * without a key anyone who can write to the topic decides what every replica serves).
 */
export type SnapshotTrust = { readonly mode: 'signed'; readonly key: Buffer } | { readonly mode: 'insecure' };

/** HMAC-SHA256 keys shorter than its 32-byte output add nothing but guessability. */
export const MIN_SNAPSHOT_KEY_BYTES = 32;

export class SnapshotKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotKeyError';
  }
}

/**
 * The trust of a service from its two settings (RECO_SNAPSHOT_KEY, RECO_SNAPSHOT_INSECURE): a hex
 * key of at least 32 bytes, or an explicit insecure flag. Neither, or both, is an error naming
 * the variables, so a service never runs unverified by accident.
 */
export function snapshotTrust(keyHex: string | undefined, insecure: boolean): SnapshotTrust {
  const hex = keyHex?.trim() ?? '';
  if (hex !== '' && insecure) throw new SnapshotKeyError('RECO_SNAPSHOT_KEY and RECO_SNAPSHOT_INSECURE=1 are both set; choose one');
  if (hex === '') {
    if (insecure) return Object.freeze({ mode: 'insecure' });
    throw new SnapshotKeyError(
      'RECO_SNAPSHOT_KEY is not set: snapshots are signed with a shared key (hex, at least 32 bytes; `npm start` makes one per cache folder). Set RECO_SNAPSHOT_INSECURE=1 to run without verification, for development only',
    );
  }
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new SnapshotKeyError('RECO_SNAPSHOT_KEY must be hexadecimal (an even number of 0-9a-f characters)');
  const key = Buffer.from(hex, 'hex');
  if (key.length < MIN_SNAPSHOT_KEY_BYTES) throw new SnapshotKeyError(`RECO_SNAPSHOT_KEY is ${key.length} bytes; at least ${MIN_SNAPSHOT_KEY_BYTES} are needed (${MIN_SNAPSHOT_KEY_BYTES * 2} hex characters)`);
  return Object.freeze({ mode: 'signed', key });
}

/** Whether the env flag asks for insecure mode: only an explicit "1" or "true" does. */
export function isInsecureFlag(raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase();
  return value === '1' || value === 'true';
}
