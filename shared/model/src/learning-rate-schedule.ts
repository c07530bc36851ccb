/**
 * Linear warm-up to the peak rate, then cosine decay to `floor` x peak at the last step.
 * Warm-up keeps Adam's first, badly estimated moments from throwing a fresh transformer's
 * LayerNorms around; the decay lets the last epochs settle instead of bouncing around a minimum,
 * which is where early stopping picks its checkpoint from.
 */
export interface LearningRateSchedule {
  peak: number;
  totalSteps: number;
  warmupSteps: number;
  floor: number;
}

export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  const { peak, totalSteps, warmupSteps, floor } = schedule;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
