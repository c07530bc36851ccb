import { initBackend } from '../backend.js';
import { intOption, numberOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { defaultBackboneDir, loadSplit } from './dataset-split.js';
import { pretrainToCheckpoint } from './pretrain-command.js';

const USAGE = 'pretrain --data synthetic|<path> [--out <dir>] [--epochs N] [--batch-size N] [--lr X] [--seed N]';

runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    {
      data: { type: 'string', default: 'synthetic' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
    },
    USAGE,
  );
  const env = readCliEnvironment();
  const backend = await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  const data = String(args.data);
  const out = typeof args.out === 'string' ? args.out : defaultBackboneDir(data);
  const split = await loadSplit(data);
  console.error(`pretraining on ${split.name}: ${split.pretrain.length} events before the stream (backend ${backend.name})`);
  const started = performance.now();
  const { result, backboneId } = await pretrainToCheckpoint(split, out, {
    epochs: intOption(args.epochs, 'epochs', 20),
    batchSize: intOption(args['batch-size'], 'batch-size', 64),
    learningRate: numberOption(args.lr, 'lr', 3e-3),
    seed: intOption(args.seed, 'seed', 1),
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    [
      `backbone ${backboneId}`,
      `written to ${out}`,
      `items ${result.itemIds.length}, parameters ${result.backbone.parameterCount}, training sequences ${result.trainSequences}`,
      `validation (leave-one-out, ${result.validationUsers} users), full ranking: HR@10 ${result.validation.full.hr10.toFixed(4)} NDCG@10 ${result.validation.full.ndcg10.toFixed(4)} ` +
        `vs popularity HR@10 ${result.popularity.full.hr10.toFixed(4)}`,
      `validation, sampled-100 protocol: HR@10 ${result.validation.sampled.hr10.toFixed(4)} NDCG@10 ${result.validation.sampled.ndcg10.toFixed(4)} ` +
        `vs popularity HR@10 ${result.popularity.sampled.hr10.toFixed(4)}`,
      `pretraining took ${seconds.toFixed(1)} s`,
    ].join('\n'),
  );
  result.backbone.dispose();
});
