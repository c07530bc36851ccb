import { AssignerProtocol, type Consumer, type Kafka, type Logger, type PartitionAssigner } from '@reco/stream';

/**
 * The updater's lease: membership of a consumer group on the one-partition lease topic, one group
 * per set of variants. Kafka hands the single partition to one member; that member is active, the
 * others wait as standby. The assigner keeps the lease where it is (a standby joining never takes
 * it from a live holder) and otherwise gives it to the member that has waited longest. When the
 * holder dies (kill -9), the group drops it after the lease session timeout and the partition goes
 * to a standby.
 *
 * The lease alone cannot stop a zombie (a holder paused past its session that then wakes up and
 * still believes it is active): that is the fence's job (snapshot-publisher.ts). The lease decides
 * who should publish; the fence makes sure nobody else can.
 */
export interface LeaseMember {
  readonly memberId: string;
  /** When it acquired the lease it believes it holds (epoch ms); undefined: it holds none. */
  readonly acquiredAt: number | undefined;
  /** When the member started waiting (epoch ms): the longest waiting standby is next. */
  readonly since: number;
}

/**
 * Who gets the lease: the holder if it rejoined, else the longest waiting member. Two members can
 * both claim it: a holder that was paused past its session (its lease went to a standby) rejoins
 * still believing it holds it. The later acquisition is the real one: it can only have happened
 * after the older holder fell silent for a whole session timeout (6 s or more), so clocks that
 * disagree by less than that still pick right.
 */
export function chooseHolder(members: readonly LeaseMember[]): string | undefined {
  const sorted = [...members].sort(
    (a, b) => (b.acquiredAt ?? -1) - (a.acquiredAt ?? -1) || a.since - b.since || a.memberId.localeCompare(b.memberId),
  );
  return sorted[0]?.memberId;
}

/**
 * One lease group per variant set, named after the adapters topic (not the consumer group id), so
 * two updaters started for the same variants with different RECO_GROUP_IDs still share one lease.
 */
export function leaseGroup(adaptersTopic: string, variants: readonly string[]): string {
  return `reco-updater-lease.${adaptersTopic}.${[...variants].sort().join('+')}`;
}

const ASSIGNER = 'RecoLeaseAssigner';

/** What each member says of itself when it joins (its userData), read by whichever member leads the group. */
function decodeMember(memberId: string, metadata: Buffer): LeaseMember {
  let acquiredAt: number | undefined;
  let since = Number.MAX_SAFE_INTEGER;
  try {
    const userData = AssignerProtocol.MemberMetadata.decode(metadata)?.userData;
    const data = userData && userData.length > 0 ? (JSON.parse(userData.toString('utf8')) as { acquiredAt?: unknown; since?: unknown }) : {};
    if (typeof data.acquiredAt === 'number') acquiredAt = data.acquiredAt;
    if (typeof data.since === 'number') since = data.since;
  } catch {
    // A member that says nothing readable waits behind everyone else.
  }
  return { memberId, acquiredAt, since };
}

export function leaseAssigner(topic: string, self: () => { acquiredAt: number | undefined; since: number }): PartitionAssigner {
  return () => ({
    name: ASSIGNER,
    version: 1,
    async assign({ members }) {
      const holder = chooseHolder(members.map(({ memberId, memberMetadata }) => decodeMember(memberId, memberMetadata)));
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: memberId === holder ? { [topic]: [0] } : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(self())) }) };
    },
  });
}

export interface LeaseOptions {
  kafka: Kafka;
  topic: string;
  group: string;
  /** How long the group waits for a silent holder before the lease moves (the broker allows 6000 ms and up). */
  sessionTimeoutMs: number;
  logger: Logger;
  /** Called once when a held lease is lost: another member holds it now, or the lease consumer failed for good. */
  onLost(reason: string): void;
  /** Called each time a rebalance leaves this member waiting (another updater holds the lease). */
  onStandby?(): void;
  now?: () => number;
}

export interface Lease {
  readonly holding: boolean;
  /** Leaves the group (the next standby takes over at once, without waiting out the session). */
  release(): Promise<void>;
}

/**
 * Joins the lease group and resolves once this process holds the lease; until then it waits as
 * standby, logging one line per rebalance. A lost connection is retried by KafkaJS (the consumer
 * restarts and rejoins as the holder it was); only a rejoin that hands the partition to someone
 * else, or a crash KafkaJS will not restart, loses the lease.
 */
export async function acquireLease(options: LeaseOptions): Promise<Lease> {
  const { kafka, topic, group, sessionTimeoutMs, logger } = options;
  const since = (options.now ?? Date.now)();
  let holding = false;
  let acquiredAt: number | undefined;
  let lost = false;
  let released = false;
  const consumer: Consumer = kafka.consumer({
    groupId: group,
    sessionTimeout: sessionTimeoutMs,
    rebalanceTimeout: sessionTimeoutMs,
    // Heartbeats ride on empty fetches (nothing is ever written to the lease topic).
    heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 5)),
    maxWaitTimeInMs: 500,
    partitionAssigners: [leaseAssigner(topic, () => ({ acquiredAt: holding ? acquiredAt : undefined, since }))],
  });
  const lose = (reason: string): void => {
    if (lost || released) return;
    lost = true;
    holding = false;
    logger.error({ group, reason }, 'lease lost: stopping training and publishing');
    options.onLost(reason);
  };
  const held = new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (released) return;
      const has = (payload.memberAssignment[topic] ?? []).includes(0);
      if (has && !holding && !lost) {
        holding = true;
        acquiredAt = Date.now();
        logger.info({ group, memberId: payload.memberId, waitedMs: Date.now() - since }, 'lease acquired: active');
        resolve();
      } else if (!has && holding) {
        lose('another updater holds the lease now (this one was silent past the lease session timeout)');
      } else if (!has && !holding) {
        logger.info({ group, memberId: payload.memberId }, 'standby: waiting for the lease (another updater is active for these variants)');
        options.onStandby?.();
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (released || payload.restart) return;
      if (holding) lose(`the lease consumer failed: ${String(payload.error)}`);
      else reject(payload.error);
    });
  });
  held.catch(() => undefined); // awaited below; a crash during connect must not count as unhandled
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await held;
  } catch (error) {
    // The caller retries with a consumer of its own: this one must not stay in the group.
    released = true;
    await consumer.disconnect().catch(() => undefined);
    throw error;
  }
  return {
    get holding() {
      return holding && !lost;
    },
    release: async () => {
      released = true;
      holding = false;
      await consumer.disconnect();
    },
  };
}
