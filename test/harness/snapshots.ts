import { buildSnapshot, createAdaptation, ItemCatalogue, type AdapterSnapshot, type LoadedCheckpoint } from '@reco/model';

/** How many events a snapshot was trained up to: its consumed offsets summed over the partitions. */
export function offsetSum(offsets: Readonly<Record<string, string>>): number {
  return Object.values(offsets).reduce((sum, o) => sum + Number(o), 0);
}

/**
 * A real ladder snapshot for the fixture backbone, built by the model package as the updater
 * would publish it, with its parameters nudged by `nudge` so each version scores differently.
 */
export async function ladderSnapshot(checkpoint: LoadedCheckpoint, version: number, nudge: number): Promise<AdapterSnapshot> {
  const method = createAdaptation('ladder', checkpoint.backbone, new ItemCatalogue(checkpoint.itemIds, 8), { seed: 1 });
  try {
    const serialized = await method.serialize();
    const tensors = serialized.tensors.map((t) => ({ ...t, values: t.values.map((v, i) => v + nudge * Math.sin(i + version)) }));
    return buildSnapshot(
      { variant: 'ladder', version, backboneId: checkpoint.backboneId, offsets: {}, examplesTrained: version * 10, figures: {}, newestEventTs: Date.now(), publishedAt: Date.now() },
      { ...serialized, tensors },
    );
  } finally {
    method.dispose();
  }
}
