import { join, resolve } from 'node:path';

/**
 * The folder `npm start` keeps between runs (`<repo>/.cache` unless --cache-dir names another):
 * the pretrained backbones, the embedded broker's data (every event and snapshot), and the key
 * that signs snapshots. One place decides the layout, so the launcher, its tests and a person
 * looking for the broker log all find the same paths.
 */
export interface StartCache {
  readonly root: string;
  /** The embedded broker's kept folder: storage, server.properties, broker.log. */
  readonly kafkaDir: string;
  readonly snapshotKeyFile: string;
  backboneDir(dataset: string): string;
}

export function startCache(root: string): StartCache {
  const dir = resolve(root);
  return {
    root: dir,
    kafkaDir: join(dir, 'kafka'),
    snapshotKeyFile: join(dir, 'snapshot.key'),
    backboneDir: (dataset) => join(dir, 'backbones', dataset),
  };
}
