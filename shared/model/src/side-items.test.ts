import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { ItemCatalogue } from './item-catalogue.js';
import { SideItemParameters } from './side-items.js';

describe('SideItemParameters', () => {
  it('holds exactly its three variables (new-item table, bias, co-visit weight): creating and disposing one leaves no tensor behind', async () => {
    await initBackend({ log: () => undefined });
    const before = tf.memory().numTensors;
    const side = new SideItemParameters(new ItemCatalogue(['a', 'b', 'c'], 4), 8);
    expect(tf.memory().numTensors - before).toBe(3);
    expect(side.parameterCount).toBe(4 * 8 + (3 + 2 + 4) + 1);
    side.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
