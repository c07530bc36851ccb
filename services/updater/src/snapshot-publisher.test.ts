import { createKafkaClient, ensureTopics, readKafkaConfig, readToEnd, silentLogger, topicSpecs, type Kafka } from '@reco/stream';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProducerFenced, ProducerFencedError, SnapshotPublisher, snapshotTransactionalId } from './snapshot-publisher.js';

let kafka: Kafka;

beforeAll(async () => {
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'fence-it' }), silentLogger);
});

async function freshAdapters() {
  const spec = topicSpecs({ prefix: `${uniqueName('fence')}.` }).adapters;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [spec]);
  await admin.disconnect();
  return spec;
}

async function committed(topic: string): Promise<string[]> {
  const seen: string[] = [];
  await readToEnd(kafka, topic, (message) => void seen.push(`${String(message.key)}=${String(message.value)}`), { timeoutMs: 15_000 });
  return seen;
}

describe('isProducerFenced', () => {
  it('finds INVALID_PRODUCER_EPOCH or PRODUCER_FENCED anywhere in the cause chain', () => {
    expect(isProducerFenced({ type: 'INVALID_PRODUCER_EPOCH' })).toBe(true);
    expect(isProducerFenced(new Error('retries', { cause: { errors: [{ code: 90 }] } }))).toBe(true);
    expect(isProducerFenced({ originalError: { code: 47 } })).toBe(true);
    expect(isProducerFenced(new Error('other'))).toBe(false);
  });

  it('names one transactional id per variant and adapters topic', () => {
    expect(snapshotTransactionalId('reco.adapters', 'ladder')).toBe('reco-snapshots.reco.adapters.ladder');
    expect(snapshotTransactionalId('a', 'ladder')).not.toBe(snapshotTransactionalId('b', 'ladder'));
  });
});

describe('SnapshotPublisher on the real broker', () => {
  it('once a newer publisher opened the same variants, the older one is refused, says so once, and none of its writes is committed', async () => {
    const topic = await freshAdapters();
    const fenced: string[] = [];
    const old = await SnapshotPublisher.open({ kafka, topic, variants: ['ladder', 'lora'], logger: silentLogger, onFenced: (variant) => void fenced.push(variant) });
    await old.publish('ladder', { key: 'ladder', value: 'v1' });
    const next = await SnapshotPublisher.open({ kafka, topic, variants: ['ladder'], logger: silentLogger });
    await expect(old.publish('ladder', { key: 'ladder', value: 'zombie' })).rejects.toBeInstanceOf(ProducerFencedError);
    expect(old.fenced).toBe(true);
    // Fenced once: the publisher refuses everything from then on, without asking the broker again.
    await expect(old.publish('lora', { key: 'lora', value: 'zombie-lora' })).rejects.toBeInstanceOf(ProducerFencedError);
    expect(fenced).toEqual(['ladder']);
    await next.publish('ladder', { key: 'ladder', value: 'v2' });
    expect(await committed(topic.name)).toEqual(['ladder=v1', 'ladder=v2']);
    await Promise.all([old.disconnect(), next.disconnect()]);
  }, 60_000);

  it('opening aborts a transaction the old holder left open (a kill -9 mid-publish): its record never becomes visible', async () => {
    const topic = await freshAdapters();
    const zombie = kafka.producer({ transactionalId: snapshotTransactionalId(topic.name, 'ladder'), idempotent: true, maxInFlightRequests: 1 });
    await zombie.connect();
    const open = await zombie.transaction();
    await open.send({ topic: topic.name, messages: [{ key: 'ladder', value: 'half-done' }] });
    const next = await SnapshotPublisher.open({ kafka, topic, variants: ['ladder'], logger: silentLogger });
    await next.publish('ladder', { key: 'ladder', value: 'v2' });
    await expect(open.commit()).rejects.toSatisfy(isProducerFenced);
    expect(await committed(topic.name)).toEqual(['ladder=v2']);
    await Promise.all([zombie.disconnect(), next.disconnect()]);
  }, 60_000);
});
