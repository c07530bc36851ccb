import { describe, expect, it } from 'vitest';
import type { Interaction } from './interaction.js';
import { groupByUser, leaveOneOutSplit } from './splits.js';
import { createSyntheticWorld, smallWorldOptions, type SyntheticWorld } from './synthetic-world.js';

/**
 * Evidence that the synthetic world is worth learning from, measured with count models that
 * need no training loop: if a first-order Markov model cannot beat popularity by a wide margin,
 * a transformer has nothing sequential to find; if an online count model cannot beat a frozen
 * one after the drifts, online adaptation has nothing to do.
 */

const K = 10;

class CountModel {
  private readonly transitions = new Map<string, Map<string, number>>();
  private readonly popularity = new Map<string, number>();
  private ranked: string[] | undefined;

  add(previous: string | undefined, next: string): void {
    this.popularity.set(next, (this.popularity.get(next) ?? 0) + 1);
    this.ranked = undefined;
    if (previous === undefined) return;
    const row = this.transitions.get(previous) ?? new Map<string, number>();
    row.set(next, (row.get(next) ?? 0) + 1);
    this.transitions.set(previous, row);
  }

  popular(): readonly string[] {
    this.ranked ??= [...this.popularity.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
    return this.ranked;
  }

  /** Top-K unseen items: the last item's most frequent successors, then the most popular items. */
  recommend(last: string | undefined, seen: ReadonlySet<string>, markov: boolean): string[] {
    const out: string[] = [];
    const row = markov && last !== undefined ? this.transitions.get(last) : undefined;
    const successors = [...(row?.entries() ?? [])].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    for (const [id] of successors) if (out.length < K && !seen.has(id)) out.push(id);
    for (const id of this.popular()) {
      if (out.length >= K) break;
      if (!seen.has(id) && !out.includes(id)) out.push(id);
    }
    return out;
  }
}

function fit(histories: Iterable<readonly Interaction[]>): CountModel {
  const model = new CountModel();
  for (const events of histories) events.forEach((e, i) => model.add(events[i - 1]?.itemId, e.itemId));
  return model;
}

function leaveLastOut(world: SyntheticWorld): { markov: number; topic: number; popularity: number } {
  const { train, valid, test } = leaveOneOutSplit(world.pretrainLog);
  const histories = groupByUser([...train, ...valid]);
  const model = fit(histories.values());
  let markov = 0;
  let topic = 0;
  let popularity = 0;
  for (const target of test) {
    const history = histories.get(target.userId) ?? [];
    const seen = new Set(history.map((e) => e.itemId));
    const last = history.at(-1)?.itemId;
    if (model.recommend(last, seen, true).includes(target.itemId)) markov++;
    if (model.recommend(last, seen, false).includes(target.itemId)) popularity++;
    // What a model gets that has only learned which items belong together (a low-rank structure).
    const lastTopic = last === undefined ? -1 : world.topicOfItem(last);
    const sameTopic = model.popular().filter((id) => !seen.has(id) && world.topicOfItem(id) === lastTopic);
    if (sameTopic.slice(0, K).includes(target.itemId)) topic++;
  }
  return { markov: markov / test.length, topic: topic / test.length, popularity: popularity / test.length };
}

/** Test-then-train HR@10 over the stream, before the first drift and after the launch. */
function prequential(world: SyntheticWorld): { frozenBefore: number; frozenAfter: number; onlineAfter: number } {
  const pretrain = groupByUser(world.pretrainLog);
  const frozen = fit(pretrain.values());
  const online = fit(pretrain.values());
  const histories = new Map([...pretrain].map(([user, events]) => [user, events.map((e) => e.itemId)]));
  const [shift, launch] = world.drifts.map((d) => d.ts);
  const hits = { frozenBefore: 0, before: 0, frozenAfter: 0, onlineAfter: 0, after: 0 };
  for (const event of world.stream) {
    const history = histories.get(event.userId) ?? [];
    const seen = new Set(history);
    const last = history.at(-1);
    const frozenHit = frozen.recommend(last, seen, true).includes(event.itemId) ? 1 : 0;
    if (event.ts < (shift ?? 0)) {
      hits.frozenBefore += frozenHit;
      hits.before++;
    } else if (event.ts >= (launch ?? 0)) {
      hits.frozenAfter += frozenHit;
      hits.onlineAfter += online.recommend(last, seen, true).includes(event.itemId) ? 1 : 0;
      hits.after++;
    }
    online.add(last, event.itemId);
    history.push(event.itemId);
    histories.set(event.userId, history);
  }
  return {
    frozenBefore: hits.frozenBefore / hits.before,
    frozenAfter: hits.frozenAfter / hits.after,
    onlineAfter: hits.onlineAfter / hits.after,
  };
}

describe('synthetic world learnability', () => {
  it.each([7, 8])('seed %i: a first-order Markov model beats popularity HR@10 by at least 2x', (seed) => {
    const { markov, popularity } = leaveLastOut(createSyntheticWorld(smallWorldOptions(seed)));
    console.info(`small world seed ${seed}: leave-last-out HR@10 markov ${markov.toFixed(3)}, popularity ${popularity.toFixed(3)}`);
    expect(markov).toBeGreaterThan(0.4);
    expect(markov).toBeGreaterThanOrEqual(2 * popularity);
  });

  it('default world: the Markov model beats popularity by far more than 2x, and so does topic alone', () => {
    const { markov, topic, popularity } = leaveLastOut(createSyntheticWorld());
    console.info(
      `default world: leave-last-out HR@10 markov ${markov.toFixed(3)}, ` +
        `popular-in-last-item's-topic ${topic.toFixed(3)}, popularity ${popularity.toFixed(3)}`,
    );
    expect(markov).toBeGreaterThanOrEqual(5 * popularity);
    expect(topic).toBeGreaterThanOrEqual(2 * popularity);
  });

  it('the drifts hurt a frozen model and an online one recovers', () => {
    const result = prequential(createSyntheticWorld(smallWorldOptions()));
    console.info(
      `small world stream HR@10: frozen before drifts ${result.frozenBefore.toFixed(3)}, ` +
        `after launch frozen ${result.frozenAfter.toFixed(3)} vs online ${result.onlineAfter.toFixed(3)}`,
    );
    expect(result.frozenAfter).toBeLessThan(result.frozenBefore - 0.1);
    expect(result.onlineAfter).toBeGreaterThan(result.frozenAfter + 0.05);
  });
});
