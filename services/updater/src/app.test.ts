import { describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { readUpdaterConfig } from './config.js';

describe('updater app', () => {
  it('answers /healthz', async () => {
    const app = await buildApp();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    await app.close();
  });

  it('reads its config once and names a bad variable', () => {
    expect(readUpdaterConfig({ KAFKA_BROKERS: 'localhost:9092', PORT: '0' })).toMatchObject({ port: 0, kafka: { brokers: ['localhost:9092'] } });
    expect(() => readUpdaterConfig({ KAFKA_BROKERS: 'localhost:9092', PORT: 'eighty' })).toThrow('PORT must be a TCP port number');
  });
});
