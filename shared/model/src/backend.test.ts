import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BACKEND_ORDER, initBackend, isBackendName } from './backend.js';

describe('initBackend', () => {
  it('prefers the native bindings, then WASM, then CPU, logs the choice and why others were skipped', async () => {
    expect(BACKEND_ORDER).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    const lines: string[] = [];
    const choice = await initBackend({ log: (m) => lines.push(m) });
    expect(tf.getBackend()).toBe(choice.tfName);
    // Native bindings are optional and absent on most machines; whatever was skipped is explained.
    for (const s of choice.skipped) expect(s.reason.length).toBeGreaterThan(0);
    expect(BACKEND_ORDER.indexOf(choice.name)).toBe(choice.skipped.length);
    expect(lines.join('\n')).toContain(`TF.js backend: ${choice.name}`);
    expect(isBackendName('wasm')).toBe(true);
    expect(isBackendName('webgl')).toBe(false);
  });

  it('returns the same choice later and refuses to switch backends mid-process', async () => {
    const first = await initBackend({ log: () => undefined });
    expect(await initBackend({ log: () => undefined })).toBe(first);
    const other = first.name === 'cpu' ? 'wasm' : 'cpu';
    await expect(initBackend({ preferred: other, log: () => undefined })).rejects.toThrow(/already initialised/);
  });
});
