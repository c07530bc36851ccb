import { idIssue } from '@reco/stream';
import type { ItemRecord } from './item-directory.js';

/**
 * The wire form of `reco.items`: key = item id, value = the item's whole record as JSON (never a
 * patch, because compaction keeps only the last value of each key), or null, a tombstone that
 * returns the item to what the backbone's checkpoint says about it.
 */
export const ITEM_RECORD_VERSION = 1;

/** Limits of a record, the same for the API's schema and for what is read from the topic. */
export const MAX_TITLE_LENGTH = 512;
export const MAX_CATEGORIES = 32;

export function encodeItemRecord(record: ItemRecord): Buffer {
  const { itemId, title, categories, available, updatedAt } = record;
  return Buffer.from(JSON.stringify({ v: ITEM_RECORD_VERSION, itemId, title, categories, available, updatedAt }));
}

export type DecodedItemMessage = { ok: true; itemId: string; record: ItemRecord | null } | { ok: false; reason: string };

/**
 * Judges one message of the topic, whoever produced it: a record that does not hold together
 * (the key is not its item id, a field of the wrong type, over the limits) is refused with a reason
 * rather than half-applied.
 */
export function decodeItemMessage(key: Buffer | null, value: Buffer | null): DecodedItemMessage {
  const itemId = key?.toString('utf8');
  if (itemId === undefined || idIssue(itemId) !== undefined || itemId.length === 0) return { ok: false, reason: 'the key is not an item id' };
  if (value === null) return { ok: true, itemId, record: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the value is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'the value is not a JSON object' };
  const r = parsed as Record<string, unknown>;
  if (r.v !== ITEM_RECORD_VERSION) return { ok: false, reason: `unknown record version ${JSON.stringify(r.v) ?? 'undefined'}` };
  if (r.itemId !== itemId) return { ok: false, reason: 'the record names another item than its key' };
  if (r.title !== null && (typeof r.title !== 'string' || r.title.length === 0 || r.title.length > MAX_TITLE_LENGTH)) return { ok: false, reason: `title is not null or a string of 1-${MAX_TITLE_LENGTH} characters` };
  const { categories } = r;
  if (!Array.isArray(categories) || categories.length > MAX_CATEGORIES || !categories.every((c) => typeof c === 'string' && c.length > 0 && idIssue(c) === undefined)) {
    return { ok: false, reason: `categories is not an array of at most ${MAX_CATEGORIES} labels` };
  }
  if (typeof r.available !== 'boolean') return { ok: false, reason: 'available is not a boolean' };
  if (r.updatedAt !== null && (typeof r.updatedAt !== 'number' || !Number.isFinite(r.updatedAt))) return { ok: false, reason: 'updatedAt is not null or a number' };
  return { ok: true, itemId, record: { itemId, title: r.title, categories: categories as string[], available: r.available, updatedAt: r.updatedAt } };
}
