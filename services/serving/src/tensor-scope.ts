import * as tf from '@tensorflow/tfjs-core';

/**
 * Builds a model object inside `tf.tidy`, so tensors its constructor creates and forgets are freed
 * while its variables (which tidy never disposes) survive. Needed because the model package's
 * SideItemParameters passes `tf.zeros(...)` straight to `tf.variable(...)` without disposing it:
 * every adaptation method built would otherwise leak two tensors holding a side table's worth of
 * memory, i.e. one leak per applied snapshot for the life of a serving replica.
 */
export function buildInTensorScope<T>(build: () => T): T {
  let built: { value: T } | undefined;
  tf.tidy(() => {
    built = { value: build() };
  });
  if (built === undefined) throw new Error('build did not run');
  return built.value;
}
