import kafkajs, { type Admin } from 'kafkajs';
import { StreamError } from './errors.js';
import type { TopicSpec } from './topics.js';

// kafkajs is CommonJS and Node's ESM loader cannot see this export by name (Vite can, which is
// why tests alone would not notice): read it from the default export.
const { ConfigResourceTypes } = kafkajs;

export interface EnsureTopicsResult {
  created: string[];
  /** Existing topics whose configs or partition count were brought in line with the spec. */
  updated: string[];
  unchanged: string[];
  /** Differences it leaves to operators, e.g. fewer partitions than the spec asks for. */
  warnings: string[];
}

/**
 * Makes the cluster match the specs: creates missing topics and sets topic configs that differ.
 * Running it again against a matching cluster changes nothing (everything is `unchanged`).
 * Partition counts are only reported, never changed: adding partitions re-maps keys (a user's
 * events would change partition mid-stream), which is an operator's decision, and several
 * services starting at once would race to do it. Replication is left to operators too.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  const result: EnsureTopicsResult = { created: [], updated: [], unchanged: [], warnings: [] };
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    // Another process may create the same topics at the same moment (serving and the updater at
    // start): KafkaJS then resolves false instead of failing. Which of them this call made is not
    // said, so then none counts as created and all are checked below like existing topics.
    let createdAll = true;
    if (missing.length > 0) {
      createdAll = await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.numPartitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
        })),
      });
      if (createdAll) result.created.push(...missing.map((s) => s.name));
    }
    const present = createdAll ? specs.filter((s) => existing.has(s.name)) : [...specs];
    if (present.length === 0) return result;

    const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
    });
    for (const spec of present) {
      const partitions = metadata.topics.find((t) => t.name === spec.name)?.partitions.length ?? 0;
      const current = new Map(
        described.resources.find((r) => r.resourceName === spec.name)?.configEntries.map((e) => [e.configName, e.configValue]) ?? [],
      );
      const drifted = Object.entries(spec.configs).filter(([name, value]) => current.get(name) !== value);
      let changed = false;
      if (partitions !== spec.numPartitions) {
        result.warnings.push(`${spec.name} has ${partitions} partitions; the catalogue asks for ${spec.numPartitions} (left as it is)`);
      }
      if (drifted.length > 0) {
        // alterConfigs replaces the topic's whole dynamic config set, so send every config of the spec.
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: spec.name,
              configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
            },
          ],
        });
        changed = true;
      }
      (changed ? result.updated : result.unchanged).push(spec.name);
    }
    return result;
  } catch (cause) {
    if (cause instanceof StreamError) throw cause;
    throw new StreamError('RECO_ERR_TOPIC_SETUP', `ensureTopics failed for ${specs.map((s) => s.name).join(', ')}: ${String(cause)}`, { cause });
  }
}
