import { createSyntheticWorld, loadDataset, timeSplit, type Interaction, type SyntheticWorldOptions } from '@reco/data';

export interface TrafficSimulatorOptions {
  /** Serving's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  world?: SyntheticWorldOptions;
  /** Events to replay instead of the synthetic world's live stream (e.g. a real log's later part, `replayOf`). */
  stream?: readonly Interaction[];
  /** Clicks posted per second (the synthetic stream is replayed in order at this rate). */
  clicksPerSecond: number;
  /** Events per POST /v1/events request. */
  batchSize?: number;
  /** Also ask for recommendations for some users, as a front end would. */
  requestsPerSecond?: number;
  log: (message: string) => void;
}

/**
 * The share of a real log the backbone is pretrained on (the pretrain CLI's time split,
 * DEFAULT_PRETRAIN_FRACTION in @reco/model's cli): the simulator replays the rest, so serving and
 * the updater see events the backbone never trained on, in their original order.
 */
export const PRETRAIN_FRACTION = 0.7;

/** A real data set's later part, as the pretrain CLI splits it (loaded the same way, by loadDataset). */
export async function replayOf(dataset: string): Promise<{ name: string; stream: Interaction[] }> {
  const loaded = await loadDataset(dataset);
  const { after } = timeSplit(loaded.interactions, { fraction: PRETRAIN_FRACTION });
  if (after.length === 0) throw new Error(`${loaded.name} has no events after its first ${PRETRAIN_FRACTION * 100}% to replay`);
  return { name: loaded.name, stream: after };
}

/**
 * Replays a stream against a running serving instance (the synthetic world's live stream unless
 * `stream` is given): clicks go to POST /v1/events (stamped with the current time, so freshness
 * is measurable), and a share of users ask for recommendations. It loops over the stream until stopped.
 */
export function startTrafficSimulator(options: TrafficSimulatorOptions): { stop(): Promise<void>; stats(): { posted: number; failed: number; recommended: number } } {
  const stream: readonly Interaction[] = options.stream ?? createSyntheticWorld(options.world).stream;
  if (stream.length === 0) throw new Error('the traffic simulator has no events to replay');
  const batchSize = options.batchSize ?? 20;
  const tickMs = Math.max(10, Math.round((1000 * batchSize) / options.clicksPerSecond));
  let cursor = 0;
  let posted = 0;
  let failed = 0;
  let recommended = 0;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  let lastReport = Date.now();

  const tick = async (): Promise<void> => {
    const events = [];
    for (let i = 0; i < batchSize; i += 1) {
      const e = stream[cursor % stream.length];
      cursor += 1;
      if (e) events.push({ userId: e.userId, itemId: e.itemId, type: e.type, ts: Date.now() });
    }
    try {
      const response = await fetch(`${options.baseUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      if (response.ok) posted += events.length;
      else failed += events.length;
      await response.body?.cancel();
      const asks = Math.round(((options.requestsPerSecond ?? 5) * tickMs) / 1000);
      for (let i = 0; i < asks; i += 1) {
        const user = events[i % events.length]?.userId;
        if (!user) continue;
        const reco = await fetch(`${options.baseUrl}/v1/recommendations?userId=${encodeURIComponent(user)}&k=10`);
        if (reco.ok) recommended += 1;
        await reco.body?.cancel();
      }
    } catch {
      failed += events.length;
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      options.log(`simulator: ${posted} clicks posted, ${recommended} recommendations asked, ${failed} failed`);
    }
  };

  const timer = setInterval(() => {
    // Never pile requests up behind a slow server: skip a tick while the previous one runs.
    if (stopped || inFlight) return;
    inFlight = tick().finally(() => {
      inFlight = undefined;
    });
  }, tickMs);

  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
    stats: () => ({ posted, failed, recommended }),
  };
}
