import { createKafkaClient, ensureTopics, readKafkaConfig, silentLogger, topicSpecs, type Kafka } from '@reco/stream';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireLease, chooseHolder, leaseGroup, type Lease } from './lease.js';

describe('lease rules', () => {
  it('keeps the lease with a holder that rejoined, else gives it to the longest waiting member', () => {
    expect(chooseHolder([{ memberId: 'a', acquiredAt: undefined, since: 1 }, { memberId: 'b', acquiredAt: 7, since: 5 }])).toBe('b');
    expect(chooseHolder([{ memberId: 'b', acquiredAt: undefined, since: 5 }, { memberId: 'a', acquiredAt: undefined, since: 1 }])).toBe('a');
    expect(chooseHolder([])).toBeUndefined();
  });

  it('when a paused old holder rejoins still claiming the lease, the later acquisition keeps it', () => {
    const zombie = { memberId: 'zombie', acquiredAt: 1_000, since: 500 };
    const current = { memberId: 'current', acquiredAt: 9_000, since: 800 };
    expect(chooseHolder([zombie, current])).toBe('current');
    expect(chooseHolder([current, zombie])).toBe('current');
  });

  it('names one lease group per adapters topic and sorted variant set', () => {
    expect(leaseGroup('reco.adapters', ['lora', 'ladder'])).toBe('reco-updater-lease.reco.adapters.ladder+lora');
    expect(leaseGroup('t', ['a'])).not.toBe(leaseGroup('t', ['b']));
  });
});

let kafka: Kafka;
let topic: string;

beforeAll(async () => {
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'lease-it' }), silentLogger);
  const spec = topicSpecs({ prefix: `${uniqueName('lease')}.` }).lease;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [spec]);
  await admin.disconnect();
  topic = spec.name;
});

describe('lease on the real broker', () => {
  it('one member holds it, the others wait; a joining member does not take it; when the holder leaves, the longest waiting one gets it', async () => {
    const group = uniqueName('lease-group');
    const lost: string[] = [];
    const take = (name: string, now: number) => acquireLease({ kafka, topic, group, sessionTimeoutMs: 6000, logger: silentLogger, onLost: () => void lost.push(name), now: () => now });
    const first = await take('first', 1);
    const acquired: string[] = [];
    const waiting = (name: string, now: number): Promise<Lease> => take(name, now).then((lease) => (acquired.push(name), lease));
    // The second has waited longer than the third (an earlier `since`).
    const second = waiting('second', 2);
    await new Promise((r) => setTimeout(r, 4000));
    const third = waiting('third', 3);
    await new Promise((r) => setTimeout(r, 5000));
    expect(acquired).toEqual([]);
    expect(first.holding).toBe(true);
    const released = Date.now();
    await first.release();
    const next = await second;
    const tookMs = Date.now() - released;
    expect(acquired).toEqual(['second']);
    expect(tookMs).toBeLessThan(6000);
    await next.release();
    await (await third).release();
    expect(lost).toEqual([]);
  }, 60_000);
});
