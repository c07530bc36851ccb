import type { MethodName } from '../adaptation/adaptation-method.js';
import { createAdaptation } from '../adaptation/create-adaptation.js';
import { ItemCatalogue } from '../item-catalogue.js';
import { OnlineTrainer, type OnlineTrainerOptions } from '../online-trainer.js';
import { StreamClock, type StreamReplayReport, replayStream } from '../stream-replay.js';
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
  // The updater's publish policy on the stream's clock: clicks are ranked by what was published.
  const clock = new StreamClock();
  const online = new OnlineTrainer({ method, backboneId, batchSize: 64, prequentialWindow: 500, seed: 1, now: clock.now, publishPolicy: { intervalMs: 5000, maxSteps: 200 }, ...trainer });
  try {
    online.seedHistories(fixture.world.pretrainLog);
    return await replayStream(online, fixture.world.stream, { eventsPerStep: 32, clock });
  } finally {
    online.dispose();
    method.dispose();
  }
}
