import type { MethodName } from '../adaptation/adaptation-method.js';
import { createAdaptation } from '../adaptation/create-adaptation.js';
import { ItemCatalogue } from '../item-catalogue.js';
import { OnlineTrainer, type OnlineTrainerOptions } from '../online-trainer.js';
import { type StreamReplayReport, replayStream } from '../stream-replay.js';
import type { SmallFixture } from './small-world-fixture.js';

/** The small world's stream through one method, with the settings the tests' margins were measured with. */
export async function runSmallStream(
  fixture: SmallFixture,
  name: MethodName,
  trainer: Partial<OnlineTrainerOptions> = {},
): Promise<StreamReplayReport> {
  const { backbone, itemIds, backboneId } = fixture.checkpoint;
  const catalogue = new ItemCatalogue(itemIds, 64);
  const method = createAdaptation(name, backbone, catalogue, { seed: 3 });
  const online = new OnlineTrainer({ method, backboneId, batchSize: 64, prequentialWindow: 500, seed: 1, ...trainer });
  try {
    online.seedHistories(fixture.world.pretrainLog);
    return await replayStream(online, fixture.world.stream, { eventsPerStep: 32 });
  } finally {
    online.dispose();
    method.dispose();
  }
}
