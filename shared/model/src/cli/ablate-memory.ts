import { writeFile } from 'node:fs/promises';
import { FIRST_ITEM_ID } from '../backbone-config.js';
import { backboneRanker } from '../backbone-ranker.js';
import { initBackend } from '../backend.js';
import { memoryOf } from '../co-visit-memory.js';
import { CoVisits } from '../co-visits.js';
import { SERVING_PROTOCOL, describeProtocol, exclusionFor, rankTarget } from '../evaluation/protocol.js';
import { RankingAccumulator } from '../ranking-metrics.js';
import { UserHistories } from '../user-histories.js';
import { parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { loadStreamPrefix } from './dataset-split.js';
import { loadOrPretrain } from './pretrain-command.js';

/**
 * Why the co-visit memory enters the scores as log(1 + 10 · knn): the frozen backbone's scores
 * plus a *fixed* weight w times the memory, over the first N clicks of the stream (counts from
 * the pretraining log, then each click counted after it is ranked), for the linear feature
 * (10 · knn) and the log one. For each w: HR@10 and NDCG@10 under the serving protocol, and the
 * full softmax cross-entropy over the catalogue (what the trainer's sampled loss estimates) with
 * its derivative in w: the weight the trainer can learn is where that derivative crosses zero.
 */
const WEIGHTS = [0, 0.1, 0.25, 0.5, 1, 2];
const USAGE = 'ablate:memory --data <path> [--backbone <dir>] [--stream-events N] [--json out.json]';

interface Row {
  feature: 'linear' | 'log';
  weight: number;
  hr10: number;
  ndcg10: number;
  loss: number;
  lossSlope: number;
}

runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    { data: { type: 'string', default: 'synthetic' }, backbone: { type: 'string' }, 'stream-events': { type: 'string' }, json: { type: 'string' } },
    USAGE,
  );
  const env = readCliEnvironment();
  await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  const { split, events, backboneDir } = await loadStreamPrefix(args, 3000);
  const { backbone, itemIds } = await loadOrPretrain(split, backboneDir, env);
  const slotOf = new Map(itemIds.map((id, i) => [id, i + FIRST_ITEM_ID]));
  const numSlots = itemIds.length + FIRST_ITEM_ID;
  const histories = new UserHistories(backbone.config.maxLen, Number.MAX_SAFE_INTEGER);
  const visits = new CoVisits();
  for (const e of split.pretrain) {
    const slot = slotOf.get(e.itemId);
    if (slot === undefined) continue;
    visits.learn(histories.get(e.userId), slot);
    histories.append(e.userId, slot);
  }
  const features = ['linear', 'log'] as const;
  const cells = features.flatMap((feature) => WEIGHTS.map((weight) => ({ feature, weight, ranking: new RankingAccumulator('full'), loss: 0, slope: 0 })));
  const rank = backboneRanker(backbone);
  let cases = 0;
  for (let start = 0; start < split.stream.length; start += 64) {
    // Ranked in batches for the backbone, but each click with the counts and history as of itself.
    const batch: { history: number[]; target: number; memory: ReturnType<typeof memoryOf>; excluded: ReturnType<typeof exclusionFor> }[] = [];
    for (const e of split.stream.slice(start, start + 64)) {
      const target = slotOf.get(e.itemId);
      if (target === undefined) continue;
      const history = histories.get(e.userId);
      if (history.length > 0) batch.push({ history, target, memory: memoryOf(visits, history), excluded: exclusionFor(SERVING_PROTOCOL, histories.seenBefore(e.userId, histories.seenCount(e.userId))) });
      visits.learn(history, target);
      histories.append(e.userId, target);
    }
    const scores = rank(batch.map((c) => c.history));
    batch.forEach((c, i) => {
      const base = scores[i] as Float32Array;
      for (const feature of features) {
        const m = new Float32Array(numSlots);
        c.memory.slots.forEach((slot, n) => {
          const v = c.memory.values[n] as number;
          if (slot < numSlots) m[slot] = feature === 'log' ? v : Math.expm1(v);
        });
        for (const cell of cells) {
          if (cell.feature !== feature) continue;
          const s = new Float32Array(numSlots);
          for (let j = 0; j < numSlots; j++) s[j] = (base[j] as number) + cell.weight * (m[j] as number);
          cell.ranking.add(rankTarget(s, c.target, c.excluded));
          // Cross-entropy over every item the protocol leaves in, and its derivative in w.
          let max = -Infinity;
          for (let j = FIRST_ITEM_ID; j < numSlots; j++) if (j === c.target || !c.excluded.has(j)) max = Math.max(max, s[j] as number);
          let z = 0;
          let mean = 0;
          for (let j = FIRST_ITEM_ID; j < numSlots; j++) {
            if (j !== c.target && c.excluded.has(j)) continue;
            const p = Math.exp((s[j] as number) - max);
            z += p;
            mean += p * (m[j] as number);
          }
          cell.loss += Math.log(z) + max - (s[c.target] as number);
          cell.slope += mean / z - (m[c.target] as number);
        }
      }
      cases++;
    });
  }
  backbone.dispose();
  const rows: Row[] = cells.map((c) => {
    const { hr10, ndcg10 } = c.ranking.summary();
    return { feature: c.feature, weight: c.weight, hr10, ndcg10, loss: c.loss / cases, lossSlope: c.slope / cases };
  });
  const lines = [
    `frozen backbone + w · memory on the first ${events} stream events of ${split.name} (${cases} ranked clicks); ${describeProtocol(SERVING_PROTOCOL)}; linear = 10 · knn, log = log(1 + 10 · knn)`,
    '',
    '| feature | w | HR@10 | NDCG@10 | softmax loss | d loss / d w |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.feature} | ${r.weight} | ${r.hr10.toFixed(4)} | ${r.ndcg10.toFixed(4)} | ${r.loss.toFixed(3)} | ${r.lossSlope.toFixed(3)} |`),
  ];
  console.log(lines.join('\n'));
  if (typeof args.json === 'string') await writeFile(args.json, `${JSON.stringify({ data: split.name, events, cases, rows }, null, 2)}\n`);
});
