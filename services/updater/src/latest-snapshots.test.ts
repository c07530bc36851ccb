import { silentLogger, type Kafka } from '@reco/stream';
import { describe, expect, it } from 'vitest';
import { readLatestSnapshots, type ResumeCheck } from './latest-snapshots.js';

const check: ResumeCheck = { trust: { mode: 'insecure' }, expect: { backboneId: 'b', itemCount: 1, dim: 1, variants: new Map() } };

/**
 * A Kafka whose admin answers fetchTopicOffsets from a script: enough to drive the start-up read
 * (an empty topic needs no consumer). The real read is covered over a broker in updater.test.ts.
 */
function scriptedKafka(answers: Array<() => { partition: number; high: string; low: string; offset: string }[]>): { kafka: Kafka; calls: () => number } {
  let calls = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async () => {
      const answer = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      if (!answer) throw new Error('no scripted answer');
      return answer();
    },
  };
  // Only the admin surface readToEnd touches is scripted; the cast is that boundary.
  return { kafka: { admin: () => admin } as unknown as Kafka, calls: () => calls };
}

// The shape KafkaJS gives a broker's NOT_LEADER_FOR_PARTITION answer (a KafkaJSProtocolError).
const notLeader = (): Error => Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true });

describe('readLatestSnapshots at start-up', () => {
  it('retries a broker that is not yet the leader (the updater once crashed on its first start here)', async () => {
    const { kafka, calls } = scriptedKafka([
      () => {
        throw notLeader();
      },
      () => [{ partition: 0, high: '0', low: '0', offset: '0' }],
    ]);
    expect(await readLatestSnapshots(kafka, 'reco.adapters', silentLogger, check)).toEqual(new Map());
    expect(calls()).toBe(2);
  });

  it('fails at once on an error retrying cannot fix', async () => {
    const { kafka, calls } = scriptedKafka([
      () => {
        throw new TypeError('offsets is not iterable');
      },
    ]);
    await expect(readLatestSnapshots(kafka, 'reco.adapters', silentLogger, check)).rejects.toThrow('offsets is not iterable');
    expect(calls()).toBe(1);
  });
});
