import { isMethodName, type NamedTensor, type SerializedAdaptation } from './adaptation-method.js';

/**
 * How a SerializedAdaptation travels inside a `reco.adapters` message: the tensors go as they are,
 * and everything needed to rebuild the method's shapes (hyper-parameters, side-table capacity and
 * the side items in slot order) goes in the message's `config`. Both services use this pair, so
 * the updater's publish and serving's rebuild cannot drift apart.
 */
export interface AdaptationMessageParts {
  method: string;
  config: Record<string, unknown>;
  tensors: NamedTensor[];
}

export function toMessageParts(adaptation: SerializedAdaptation): AdaptationMessageParts {
  return {
    method: adaptation.method,
    config: { options: adaptation.options, sideCapacity: adaptation.sideCapacity, sideItemIds: adaptation.sideItemIds },
    tensors: adaptation.tensors,
  };
}

/** Rebuilds the adaptation from message parts, refusing a config that cannot be one. */
export function fromMessageParts(parts: AdaptationMessageParts): SerializedAdaptation {
  const { method, config } = parts;
  if (!isMethodName(method)) throw new Error(`snapshot names unknown method "${method}"`);
  const options = config.options;
  if (typeof options !== 'object' || options === null || Object.values(options).some((v) => typeof v !== 'number')) {
    throw new Error('snapshot config.options must be an object of numbers');
  }
  const sideCapacity = config.sideCapacity;
  if (typeof sideCapacity !== 'number' || !Number.isInteger(sideCapacity) || sideCapacity < 0) {
    throw new Error('snapshot config.sideCapacity must be a non-negative integer');
  }
  const sideItemIds = config.sideItemIds;
  if (!Array.isArray(sideItemIds) || sideItemIds.some((id) => typeof id !== 'string')) {
    throw new Error('snapshot config.sideItemIds must be an array of item ids');
  }
  return {
    method,
    options: options as Record<string, number>,
    sideCapacity,
    sideItemIds: sideItemIds as string[],
    tensors: parts.tensors,
  };
}
