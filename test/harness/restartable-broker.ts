import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalKafka, type LocalKafka, type Logger } from '@reco/stream';
import { freePort, isProcessAlive } from '@reco/stream/testing';

export interface RestartableBroker {
  /** host:port, the same across restarts. */
  readonly brokers: string;
  /** The broker process that is (or was last) running. */
  readonly pid: number;
  /** kill -9: no shutdown, no flush beyond what the OS already has; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and data folder; resolves once it answers. */
  restart(): Promise<void>;
  /** Stops it (if running) and deletes the data folder. */
  close(): Promise<void>;
}

/**
 * A broker of the test's own (never the test run's shared one, which other tests are using): a
 * local Apache Kafka on a fixed port with a kept data folder, so it can be killed and started
 * again the way an operator would after a crash, with every topic, event and group still there.
 */
export async function startRestartableBroker(logger: Logger, options: { cacheDir?: string } = {}): Promise<RestartableBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reco-restartable-kafka-'));
  const port = await freePort();
  const start = (): Promise<LocalKafka> => startLocalKafka({ logger, dataDir, port, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  let current: LocalKafka | undefined = await start();
  return {
    brokers: `127.0.0.1:${port}`,
    get pid() {
      return current?.pid ?? -1;
    },
    kill9: async () => {
      if (!current) return;
      const pid = current.pid;
      process.kill(pid, 'SIGKILL');
      while (isProcessAlive(pid)) await new Promise((r) => setTimeout(r, 50));
      // Lets the launcher forget its (now dead) child and unhook its exit handler; the data stays.
      await current.stop();
      current = undefined;
    },
    restart: async () => {
      if (current) throw new Error('the broker is still running');
      current = await start();
    },
    close: async () => {
      await current?.stop();
      current = undefined;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
