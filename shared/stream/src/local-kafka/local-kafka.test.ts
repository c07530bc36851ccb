import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { startLocalKafka, type LocalKafka } from './local-kafka.js';
import { isProcessAlive } from './process-alive.js';

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

describe('startLocalKafka', () => {
  it('starts a second broker, and stop() ends the process and removes its data', async () => {
    const kafka = await startLocalKafka({ logger: silentLogger });
    const dir = kafka.logFile.replace(/\/broker\.log$/, '');
    expect(existsSync(dir)).toBe(true);
    expect(isProcessAlive(kafka.pid)).toBe(true);
    await kafka.stop();
    expect(isProcessAlive(kafka.pid)).toBe(false);
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

describe('startLocalKafka with a kept dataDir', () => {
  const dirs: string[] = [];
  const brokers: LocalKafka[] = [];
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const keptDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'reco-kept-kafka-test-'));
    dirs.push(dir);
    return dir;
  };
  const started = async (dataDir: string): Promise<LocalKafka> => {
    const broker = await startLocalKafka({ logger: silentLogger, dataDir });
    brokers.push(broker);
    return broker;
  };

  it('a second start reuses the storage: same cluster id, same port, the messages are still there', async () => {
    const dataDir = await keptDir();
    const first = await started(dataDir);
    expect(first.reusedStorage).toBe(false);
    const topic = 'kept-topic';
    const admin = client(first.brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = client(first.brokers).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.disconnect();
    await first.stop();
    expect(isProcessAlive(first.pid)).toBe(false);
    expect(existsSync(join(dataDir, 'data', 'meta.properties'))).toBe(true);

    const second = await started(dataDir);
    expect(second.reusedStorage).toBe(true);
    expect(second.clusterId).toBe(first.clusterId);
    expect(second.brokers).toEqual(first.brokers);
    const reader = client(second.brokers).admin();
    await reader.connect();
    const offsets = await reader.fetchTopicOffsets(topic);
    await reader.disconnect();
    expect(offsets.map((o) => Number(o.high))).toEqual([3]);
    // The previous run's broker log is kept beside the new one, for reading after a crash.
    expect(existsSync(join(dataDir, 'broker.previous.log'))).toBe(true);
    await second.stop();
    expect(existsSync(join(dataDir, 'data', 'meta.properties'))).toBe(true);

    const fresh = await startLocalKafka({ logger: silentLogger, dataDir, freshStorage: true });
    brokers.push(fresh);
    expect(fresh.reusedStorage).toBe(false);
    expect(fresh.clusterId).not.toBe(first.clusterId);
    const after = client(fresh.brokers).admin();
    await after.connect();
    expect(await after.listTopics()).not.toContain(topic);
    await after.disconnect();
    await fresh.stop();
  }, 150_000);

  it('stops a broker left running by an owner that was killed, and refuses one whose owner is alive', async () => {
    const dataDir = await keptDir();
    // The owner is a separate Node process: kill -9 skips its exit hook, so its broker lives on.
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ownerScript(dataDir)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    owner.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    owner.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ownerExited = new Promise<void>((resolve) => owner.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('BROKER-UP')) {
        if (owner.exitCode !== null || Date.now() > deadline) throw new Error(`the owner process did not start its broker:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const record = JSON.parse(await readFile(join(dataDir, 'local-kafka.json'), 'utf8')) as { brokerPid: number; ownerPid: number };
      expect(record.ownerPid).toBe(owner.pid);
      await expect(startLocalKafka({ logger: silentLogger, dataDir })).rejects.toThrow(/which is still running/);
      expect(isProcessAlive(record.brokerPid)).toBe(true);

      owner.kill('SIGKILL');
      await ownerExited;
      expect(isProcessAlive(record.brokerPid)).toBe(true); // the leftover this start must deal with
      const next = await started(dataDir);
      expect(next.reusedStorage).toBe(true);
      expect(isProcessAlive(record.brokerPid)).toBe(false);
      await next.stop();
    } finally {
      owner.kill('SIGKILL');
      const record = await readFile(join(dataDir, 'local-kafka.json'), 'utf8').catch(() => '');
      const pid = record ? (JSON.parse(record) as { brokerPid: number }).brokerPid : 0;
      if (pid > 0 && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 180_000);
});

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

function ownerScript(dataDir: string): string {
  const module = fileURLToPath(new URL('./local-kafka.ts', import.meta.url));
  return [
    `import { startLocalKafka } from ${JSON.stringify(module)};`,
    `const silent = { debug() {}, info() {}, warn() {}, error() {} };`,
    `await startLocalKafka({ logger: silent, dataDir: ${JSON.stringify(dataDir)} });`,
    `console.log('BROKER-UP');`,
    `setInterval(() => {}, 1000);`,
  ].join('\n');
}

function client(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'local-kafka-test', brokers, logLevel: logLevel.NOTHING });
}
