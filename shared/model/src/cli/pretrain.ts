import { initBackend } from '../backend.js';
import { DEFAULT_BACKBONE_SHAPE } from '../backbone-config.js';
import { DEFAULT_PRETRAIN } from '../pretrain.js';
import { intOption, nonNegativeOption, numberOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { defaultBackboneDir, loadSplit } from './dataset-split.js';
import { pretrainReport, pretrainToCheckpoint } from './pretrain-command.js';

const USAGE =
  'pretrain --data synthetic|<path> [--out <dir>] [--epochs N] [--patience N] [--batch-size N] [--lr X] [--dropout X] [--weight-decay X] ' +
  '[--negatives N (0 = full softmax)] [--dim N] [--blocks N] [--heads N] [--max-len N] [--ffn-dim N] [--seed N] [--threads N (default: one per core, at most 4)] [--min-rating X] [--json out.json]';

runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    {
      data: { type: 'string', default: 'synthetic' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      patience: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      dropout: { type: 'string' },
      'weight-decay': { type: 'string' },
      negatives: { type: 'string' },
      dim: { type: 'string' },
      blocks: { type: 'string' },
      heads: { type: 'string' },
      'max-len': { type: 'string' },
      'ffn-dim': { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
      'min-rating': { type: 'string' },
    },
    USAGE,
  );
  const env = readCliEnvironment();
  const backend = await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  const data = String(args.data);
  const out = typeof args.out === 'string' ? args.out : defaultBackboneDir(data);
  const split = await loadSplit(data, undefined, args['min-rating'] === undefined ? {} : { minRating: nonNegativeOption(args['min-rating'], 'min-rating', 0) });
  console.error(`pretraining on ${split.name}: ${split.pretrain.length} events before the stream (backend ${backend.name})`);
  const started = performance.now();
  const { result, backboneId } = await pretrainToCheckpoint(split, out, {
    // Unset: the split's default schedule (defaultSchedule: epochs, patience, negatives and learning rate differ for a real log).
    ...(args.epochs === undefined ? {} : { epochs: intOption(args.epochs, 'epochs', DEFAULT_PRETRAIN.epochs) }),
    ...(args.patience === undefined ? {} : { patience: intOption(args.patience, 'patience', DEFAULT_PRETRAIN.patience) }),
    batchSize: intOption(args['batch-size'], 'batch-size', DEFAULT_PRETRAIN.batchSize),
    ...(args.lr === undefined ? {} : { learningRate: numberOption(args.lr, 'lr', DEFAULT_PRETRAIN.learningRate) }),
    dropout: nonNegativeOption(args.dropout, 'dropout', DEFAULT_PRETRAIN.dropout),
    weightDecay: nonNegativeOption(args['weight-decay'], 'weight-decay', DEFAULT_PRETRAIN.weightDecay),
    ...(args.negatives === undefined ? {} : { negatives: nonNegativeOption(args.negatives, 'negatives', DEFAULT_PRETRAIN.negatives) }),
    seed: intOption(args.seed, 'seed', DEFAULT_PRETRAIN.seed),
    ...(args.threads === undefined ? {} : { threads: intOption(args.threads, 'threads', 1) }),
    shape: {
      dim: intOption(args.dim, 'dim', DEFAULT_BACKBONE_SHAPE.dim),
      blocks: intOption(args.blocks, 'blocks', DEFAULT_BACKBONE_SHAPE.blocks),
      heads: intOption(args.heads, 'heads', DEFAULT_BACKBONE_SHAPE.heads),
      maxLen: intOption(args['max-len'], 'max-len', DEFAULT_BACKBONE_SHAPE.maxLen),
      ffnDim: intOption(args['ffn-dim'], 'ffn-dim', DEFAULT_BACKBONE_SHAPE.ffnDim),
    },
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    [
      `backbone ${backboneId} written to ${out}`,
      `items ${result.itemIds.length}, parameters ${result.backbone.parameterCount}, training windows ${result.trainSequences}`,
      `kept epoch ${result.bestEpoch} of ${result.epochs.length}${result.stoppedEarly ? ' (stopped early)' : ''}; pretraining took ${seconds.toFixed(1)} s`,
      '',
      pretrainReport(result),
    ].join('\n'),
  );
  if (typeof args.json === 'string') {
    const { writeFile } = await import('node:fs/promises');
    const { backbone: _backbone, counts: _counts, ...figures } = result;
    await writeFile(args.json, `${JSON.stringify({ data: split.name, backboneId, seconds, ...figures }, null, 2)}\n`);
    console.error(`wrote ${args.json}`);
  }
  result.backbone.dispose();
});
