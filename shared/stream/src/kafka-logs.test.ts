import { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { freePort } from './local-kafka/free-port.js';
import { TRANSIENT_BROKER_ERRORS, isTransientKafkaLog, routeLogsTo } from './kafka-logs.js';
import type { Logger } from './logger.js';
import { protocolError } from './testing/kafkajs-errors.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
function recorder(): Logger & { lines: Array<{ level: Level; msg: string | undefined; fields: object }> } {
  const lines: Array<{ level: Level; msg: string | undefined; fields: object }> = [];
  const at = (level: Level) => (fields: object, msg?: string) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('KafkaJS log lines', () => {
  it('names the messages of the broker error codes a settling broker answers with, as KafkaJS spells them', () => {
    // UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION, GROUP_LOAD_IN_PROGRESS,
    // GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP, NOT_CONTROLLER: all retriable.
    const codes = [3, 5, 6, 14, 15, 16, 41];
    expect(codes.map((code) => protocolError(code).message)).toEqual(TRANSIENT_BROKER_ERRORS);
    expect(codes.every((code) => protocolError(code).retriable)).toBe(true);
  });

  it('sends transient start-up lines and KafkaJS info to debug, keeps other errors and warnings', () => {
    const logger = recorder();
    const log = routeLogsTo(logger)(0);
    const entry = (level: number, message: string, extra: object = {}) => ({ namespace: 'Connection', level, label: '', log: { message, timestamp: 'now', logger: 'kafkajs', ...extra } });
    log(entry(1, 'Response FindCoordinator(key: 10, version: 2)', { error: 'The group coordinator is not available', correlationId: 3 }));
    log(entry(1, "Response JoinGroup(key: 11, version: 5)", { error: "The coordinator is loading and hence can't process requests for this group" }));
    log(entry(1, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092' }));
    log(entry(2, 'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior ...'));
    log(entry(4, 'Consumer has joined the group', { groupId: 'g' }));
    log(entry(1, 'Response SyncGroup(key: 14, version: 3)', { error: 'Not authorized to access group' }));
    log(entry(2, 'Limiting retries for the idempotent producer may invalidate EoS guarantees'));
    expect(logger.lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug', 'debug', 'debug', 'error', 'warn']);
    expect(logger.lines[0]?.fields).toEqual({ kafka: 'Connection', error: 'The group coordinator is not available', correlationId: 3 });
  });

  it("sends KafkaJS's CreateTopics answer line to debug (ensureTopics reports what fails), nothing else with that text", () => {
    expect(isTransientKafkaLog('Response CreateTopics(key: 19, version: 3)', { error: 'Topic creation errors', correlationId: 4 })).toBe(true);
    expect(isTransientKafkaLog('Response Produce(key: 0, version: 7)', { error: 'Topic creation errors' })).toBe(false);
    expect(isTransientKafkaLog('Response CreateTopics(key: 19, version: 3)', { error: 'Not authorized to access topics: [Topic authorization failed.]' })).toBe(false);
  });

  it('tells a broken start apart from a settling one', () => {
    expect(isTransientKafkaLog('Response Metadata(key: 3, version: 6)', { error: 'This server is not the leader for that topic-partition' })).toBe(true);
    expect(isTransientKafkaLog('Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:1', {})).toBe(true);
    expect(isTransientKafkaLog('Response SaslAuthenticate(key: 36, version: 1)', { error: 'SASL Authentication failed' })).toBe(false);
    expect(isTransientKafkaLog('Connection timeout', {})).toBe(false);
  });

  it("routes a real KafkaJS client's refused connections and partitioner warning to debug", async () => {
    const logger = recorder();
    const port = await freePort(); // nothing listens there
    const kafka = new Kafka({ clientId: 'kafka-logs-test', brokers: [`127.0.0.1:${port}`], logCreator: routeLogsTo(logger), retry: { retries: 1, initialRetryTime: 50 }, connectionTimeout: 500 });
    kafka.producer(); // KafkaJS warns about its default partitioner on the first producer
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toThrow(/ECONNREFUSED|Connection error/);
    const messages = logger.lines.map((l) => `${l.level} ${l.msg}`);
    expect(messages.some((m) => m.startsWith('debug KafkaJS v2.0.0 switched default partitioner'))).toBe(true);
    expect(messages.some((m) => m.startsWith('debug') && m.includes('ECONNREFUSED'))).toBe(true);
    expect(logger.lines.filter((l) => l.level === 'error' && /ECONNREFUSED/.test(`${l.msg} ${JSON.stringify(l.fields)}`))).toEqual([]);
  });
});
