import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { startLocalKafka } from './local-kafka.js';

function brokerDirs(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith('reco-kafka-')).sort();
}

function brokerPids(): number[] {
  try {
    return execFileSync('pgrep', ['-f', 'kafka.Kafka'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startLocalKafka', () => {
  it('starts a second broker, and stop() ends the process and removes its data', async () => {
    const kafka = await startLocalKafka({ logger: silentLogger });
    const dir = kafka.logFile.replace(/\/broker\.log$/, '');
    expect(existsSync(dir)).toBe(true);
    expect(isAlive(kafka.pid)).toBe(true);
    await kafka.stop();
    expect(isAlive(kafka.pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await kafka.stop(); // a second stop is harmless
  });

  it('cleans up after a start with a Java that does not exist', async () => {
    const before = brokerDirs();
    await expect(startLocalKafka({ logger: silentLogger, javaPath: '/nonexistent/bin/java' })).rejects.toMatchObject({
      code: 'RECO_ERR_BROKER_START',
      message: expect.stringContaining('cannot run Java at "/nonexistent/bin/java"') as unknown,
    });
    expect(brokerDirs()).toEqual(before);
  });

  it('cleans up after a start with a Java that fails', async () => {
    const before = brokerDirs();
    await expect(startLocalKafka({ logger: silentLogger, javaPath: '/bin/false' })).rejects.toThrow('formatting KRaft storage failed');
    expect(brokerDirs()).toEqual(before);
  });

  it('cleans up after a start on a port that is taken, and says why', async () => {
    // A plain TCP listener on the port: it accepts the launcher's readiness probe and never answers.
    const server: Server = createServer();
    const sockets = new Set<Socket>();
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const dirsBefore = brokerDirs();
    const pidsBefore = brokerPids();
    try {
      const attempt = startLocalKafka({ logger: silentLogger, port, startTimeoutMs: 45_000 });
      await expect(attempt).rejects.toMatchObject({ code: 'RECO_ERR_BROKER_START' });
      await expect(attempt).rejects.toThrow(/Address already in use|exited with code/);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    }
    expect(brokerDirs()).toEqual(dirsBefore);
    expect(brokerPids()).toEqual(pidsBefore);
  });
});
