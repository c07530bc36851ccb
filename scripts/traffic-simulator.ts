import { createSyntheticWorld, type Interaction, type SyntheticWorldOptions } from '@reco/data';

export interface TrafficSimulatorOptions {
  /** Serving's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  world?: SyntheticWorldOptions;
  /** Clicks posted per second (the synthetic stream is replayed in order at this rate). */
  clicksPerSecond: number;
  /** Events per POST /v1/events request. */
  batchSize?: number;
  /** Also ask for recommendations for some users, as a front end would. */
  requestsPerSecond?: number;
  log: (message: string) => void;
}

/**
 * Replays the synthetic world's live stream against a running serving instance: clicks go to
 * POST /v1/events (stamped with the current time, so freshness is measurable), and a share of
 * users ask for recommendations. It loops over the stream until stopped.
 */
export function startTrafficSimulator(options: TrafficSimulatorOptions): { stop(): Promise<void>; stats(): { posted: number; failed: number; recommended: number } } {
  const world = createSyntheticWorld(options.world);
  const stream: readonly Interaction[] = world.stream;
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
