const nullableNumber = { type: ['number', 'null'] } as const;

const figurePointSchema = {
  type: 'object',
  required: ['at', 'version', 'hr10', 'ndcg10'],
  additionalProperties: false,
  properties: {
    at: { type: 'number', description: 'Epoch ms this replica started answering with the version.' },
    version: { type: 'integer' },
    hr10: { ...nullableNumber, description: "Prequential HR@10 the updater published with the snapshot (null: not measured yet)." },
    ndcg10: { ...nullableNumber, description: 'Prequential NDCG@10 published with the snapshot.' },
  },
} as const;

const trafficPointSchema = {
  type: 'object',
  required: ['at', 'requestsPerSecond', 'eventsPerSecond', 'p99Ms'],
  additionalProperties: false,
  properties: {
    at: { type: 'number' },
    requestsPerSecond: { type: 'number', description: 'API requests (/v1/, not this route) per second over the interval.' },
    eventsPerSecond: { type: 'number', description: 'Events read from reco.events per second over the interval.' },
    p99Ms: { ...nullableNumber, description: "Latency bucket bound holding the interval's 99th percentile (null: no requests)." },
  },
} as const;

export const dashboardResponseSchema = {
  type: 'object',
  required: ['now', 'variants', 'traffic', 'users'],
  additionalProperties: false,
  properties: {
    now: { type: 'number' },
    variants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['variant', 'method', 'version', 'backboneId', 'examplesTrained', 'freshnessMs', 'appliedAt', 'previousVersion', 'snapshotsApplied', 'snapshotsRefused', 'series'],
        additionalProperties: false,
        properties: {
          variant: { type: 'string' },
          method: { type: 'string' },
          version: { type: 'integer' },
          backboneId: { type: 'string' },
          examplesTrained: { type: 'integer' },
          freshnessMs: { ...nullableNumber, description: 'Newest event the live version was trained on, to the moment this replica applied it.' },
          appliedAt: { type: 'number' },
          previousVersion: { type: ['integer', 'null'], description: 'The version a rollback would bring back.' },
          snapshotsApplied: { type: 'integer', description: 'Snapshots this replica swapped in for the variant.' },
          snapshotsRefused: { type: 'integer', description: 'Snapshots this replica refused for the variant (every reason).' },
          series: { type: 'array', items: figurePointSchema, description: 'One point per version answered, oldest first (bounded).' },
        },
      },
    },
    traffic: {
      type: 'object',
      required: ['series'],
      additionalProperties: false,
      properties: { series: { type: 'array', items: trafficPointSchema, description: 'One point per second, oldest first (the last two minutes).' } },
    },
    users: { type: 'array', items: { type: 'string' }, description: "The most recently active users of this replica's histories, most recent first (the explorer's picks)." },
  },
} as const;

export interface DashboardVariant {
  variant: string;
  method: string;
  version: number;
  backboneId: string;
  examplesTrained: number;
  freshnessMs: number | null;
  appliedAt: number;
  previousVersion: number | null;
  snapshotsApplied: number;
  snapshotsRefused: number;
  series: Array<{ at: number; version: number; hr10: number | null; ndcg10: number | null }>;
}

export interface DashboardResponse {
  now: number;
  variants: DashboardVariant[];
  traffic: { series: Array<{ at: number; requestsPerSecond: number; eventsPerSecond: number; p99Ms: number | null }> };
  users: string[];
}
