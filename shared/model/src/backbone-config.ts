/**
 * Shape of the sequential backbone and the names of its weights. The names are the checkpoint's
 * tensor index and the keys that adaptation methods hook into (LoRA targets `*.attn.wq`, BitFit
 * every bias and LayerNorm beta), so they are part of the format: renaming one is a format change.
 */
export interface BackboneConfig {
  /** Items known to the backbone; the vocabulary adds PAD (0) and UNK (1) in front. */
  numItems: number;
  dim: number;
  blocks: number;
  heads: number;
  maxLen: number;
  ffnDim: number;
  layerNormEpsilon: number;
}

/** Slot 0 pads a short sequence on the left; it never scores and never attends. */
export const PAD_ID = 0;
/** Slot 1 stands for any item the backbone has not seen; pretraining teaches it "some item". */
export const UNK_ID = 1;
/** Slots before this one are not items. */
export const FIRST_ITEM_ID = 2;

/**
 * Sized for 2 CPU cores: pretraining on the synthetic world takes about two minutes on WASM
 * (see cli/pretrain.ts). d = 64 with 2 heads keeps every matrix product on XNNPACK's fast path.
 */
export const DEFAULT_BACKBONE_SHAPE: Omit<BackboneConfig, 'numItems'> = {
  dim: 64,
  blocks: 2,
  heads: 2,
  maxLen: 50,
  ffnDim: 128,
  layerNormEpsilon: 1e-5,
};

export function vocabSize(config: BackboneConfig): number {
  return config.numItems + FIRST_ITEM_ID;
}

export function validateBackboneConfig(config: BackboneConfig): BackboneConfig {
  const positive = ['numItems', 'dim', 'blocks', 'heads', 'maxLen', 'ffnDim'] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`backbone config ${key} must be a positive integer, got ${value}`);
  }
  if (config.dim % config.heads !== 0) {
    throw new RangeError(`backbone config dim (${config.dim}) must be divisible by heads (${config.heads})`);
  }
  if (!(config.layerNormEpsilon > 0)) throw new RangeError(`backbone config layerNormEpsilon must be > 0`);
  return config;
}

export type WeightKind = 'embedding' | 'matrix' | 'bias' | 'gamma' | 'beta';

export interface WeightSpec {
  name: string;
  shape: number[];
  kind: WeightKind;
}

/** Every backbone weight in canonical (checkpoint) order. */
export function backboneWeightSpecs(config: BackboneConfig): WeightSpec[] {
  const { dim: d, ffnDim: f } = config;
  const specs: WeightSpec[] = [
    { name: 'item_embedding', shape: [vocabSize(config), d], kind: 'embedding' },
    { name: 'position_embedding', shape: [config.maxLen, d], kind: 'embedding' },
  ];
  for (let b = 0; b < config.blocks; b++) {
    const p = blockPrefix(b);
    specs.push(
      { name: `${p}.ln1.gamma`, shape: [d], kind: 'gamma' },
      { name: `${p}.ln1.beta`, shape: [d], kind: 'beta' },
      { name: `${p}.attn.wq`, shape: [d, d], kind: 'matrix' },
      { name: `${p}.attn.bq`, shape: [d], kind: 'bias' },
      { name: `${p}.attn.wk`, shape: [d, d], kind: 'matrix' },
      { name: `${p}.attn.bk`, shape: [d], kind: 'bias' },
      { name: `${p}.attn.wv`, shape: [d, d], kind: 'matrix' },
      { name: `${p}.attn.bv`, shape: [d], kind: 'bias' },
      { name: `${p}.attn.wo`, shape: [d, d], kind: 'matrix' },
      { name: `${p}.attn.bo`, shape: [d], kind: 'bias' },
      { name: `${p}.ln2.gamma`, shape: [d], kind: 'gamma' },
      { name: `${p}.ln2.beta`, shape: [d], kind: 'beta' },
      { name: `${p}.ffn.w1`, shape: [d, f], kind: 'matrix' },
      { name: `${p}.ffn.b1`, shape: [f], kind: 'bias' },
      { name: `${p}.ffn.w2`, shape: [f, d], kind: 'matrix' },
      { name: `${p}.ffn.b2`, shape: [d], kind: 'bias' },
    );
  }
  specs.push({ name: 'final_ln.gamma', shape: [d], kind: 'gamma' }, { name: 'final_ln.beta', shape: [d], kind: 'beta' });
  return specs;
}

export function blockPrefix(block: number): string {
  return `block${block}`;
}

export function countParameters(specs: readonly WeightSpec[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
