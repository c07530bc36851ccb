import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { StreamError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isProcessAlive } from './process-alive.js';

/**
 * The folder a local broker lives in: its server.properties, its log and its storage (log.dirs).
 *
 * Either temporary, a new folder under the OS temp dir per start that stop() removes (tests), or
 * kept: the same folder on every start (`npm start`'s cache), so topics, events and snapshots
 * survive a restart. Kept storage is formatted once; a later start finds its meta.properties and
 * does not format again, so the cluster id stays the one the data was written under.
 */
export interface BrokerHome {
  readonly root: string;
  /** The broker's log.dirs. */
  readonly storageDir: string;
  readonly propertiesFile: string;
  readonly logFile: string;
  readonly kept: boolean;
  /** Cluster id of storage an earlier start formatted; undefined when this start must format it. */
  readonly formattedClusterId: string | undefined;
  /** What the previous start on this folder recorded (kept homes only). */
  readonly previous: BrokerRecord | undefined;
}

/** Written to a kept home once the broker is up: the ports to prefer next time, and who runs it. */
export interface BrokerRecord {
  port: number;
  controllerPort: number;
  brokerPid: number;
  /** The process that started the broker (its exit hook stops it, unless it was killed). */
  ownerPid: number;
  startedAt: string;
}

const RECORD_FILE = 'local-kafka.json';

export async function openBrokerHome(keptDir: string | undefined): Promise<BrokerHome> {
  if (keptDir === undefined) {
    const root = await mkdtemp(join(tmpdir(), 'reco-kafka-'));
    return { ...paths(root), kept: false, formattedClusterId: undefined, previous: undefined };
  }
  const root = resolve(keptDir);
  await mkdir(root, { recursive: true });
  const home = paths(root);
  // One log per run, the previous one kept beside it: after a crash, that is the one to read.
  if (existsSync(home.logFile)) await rename(home.logFile, join(root, 'broker.previous.log'));
  return { ...home, kept: true, formattedClusterId: await readClusterId(home.storageDir), previous: await readRecord(root) };
}

export async function writeBrokerRecord(home: BrokerHome, record: BrokerRecord): Promise<void> {
  const file = join(home.root, RECORD_FILE);
  // Through a rename: a launcher killed mid-write must not leave a record the next start cannot parse.
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/**
 * A broker still running on this home from an earlier start: its owner was killed (kill -9 skips
 * the exit hook that stops the broker, which runs in its own process group). Kafka's lock on the
 * storage would make the new broker fail, so that leftover is stopped here. A broker whose owner
 * is still alive belongs to another `npm start` on the same folder and is left alone: that is an
 * error to report, not a process to kill.
 */
export async function stopLeftoverBroker(home: BrokerHome, logger: Logger, timeoutMs: number): Promise<void> {
  const previous = home.previous;
  if (!previous || !isProcessAlive(previous.brokerPid)) return;
  if (!(await commandLine(previous.brokerPid)).includes(home.propertiesFile)) return; // the pid was reused by something else
  if (isProcessAlive(previous.ownerPid)) {
    throw new StreamError(
      'RECO_ERR_BROKER_START',
      `the Kafka data in ${home.root} is in use by broker pid ${previous.brokerPid}, started by process ${previous.ownerPid}, which is still running; stop that first or use another folder`,
    );
  }
  logger.warn({ pid: previous.brokerPid, dir: home.root }, 'stopping a Kafka broker left running by an earlier start whose owner is gone');
  process.kill(previous.brokerPid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  let killed = false;
  // Not our child: poll, and count a zombie as gone (whoever reaps orphans here may never do it).
  while (isProcessAlive(previous.brokerPid) && !(await processState(previous.brokerPid)).startsWith('Z')) {
    if (!killed && Date.now() > deadline) {
      process.kill(previous.brokerPid, 'SIGKILL');
      killed = true;
    }
    await sleep(100);
  }
}

export async function wipeStorage(home: BrokerHome): Promise<void> {
  await rm(home.storageDir, { recursive: true, force: true });
}

function paths(root: string): Pick<BrokerHome, 'root' | 'storageDir' | 'propertiesFile' | 'logFile'> {
  return { root, storageDir: join(root, 'data'), propertiesFile: join(root, 'server.properties'), logFile: join(root, 'broker.log') };
}

/** `kafka-storage format` writes meta.properties last, so its presence means a complete format. */
async function readClusterId(storageDir: string): Promise<string | undefined> {
  const file = join(storageDir, 'meta.properties');
  if (!existsSync(file)) return undefined;
  const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.startsWith('cluster.id='));
  const id = line?.slice('cluster.id='.length).trim();
  if (!id) throw new StreamError('RECO_ERR_BROKER_START', `${file} has no cluster.id; remove ${storageDir} to start with empty storage`);
  return id;
}

async function readRecord(root: string): Promise<BrokerRecord | undefined> {
  const file = join(root, RECORD_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<BrokerRecord>;
    const ints = [parsed.port, parsed.controllerPort, parsed.brokerPid, parsed.ownerPid];
    return ints.every((n) => Number.isInteger(n) && (n as number) > 0) ? (parsed as BrokerRecord) : undefined;
  } catch {
    return undefined; // only a hint for ports and leftovers: a damaged one is as good as none
  }
}

function commandLine(pid: number): Promise<string> {
  return ps(pid, 'args=');
}

/** ps's STAT column: 'Z' first for a zombie, '' for a process that is gone. */
async function processState(pid: number): Promise<string> {
  return (await ps(pid, 'stat=')).trim();
}

async function ps(pid: number, format: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('ps', ['-o', format, '-p', String(pid)]);
    return stdout;
  } catch {
    return ''; // ps exits 1 when the process is gone
  }
}
