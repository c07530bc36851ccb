/**
 * Everything serving uses from @reco/model, in one place, so the rest of serving names what it
 * needs from the model rather than where it lives.
 */
export {
  Backbone,
  createAdaptation,
  encodeSequences,
  fromMessageParts,
  initBackend,
  isBackendName,
  isMethodName,
  ItemCatalogue,
  loadCheckpoint,
  METHOD_NAMES,
  PAD_ID,
  parseVariants,
  restoreAdaptation,
  saveCheckpoint,
  toMessageParts,
  topK,
  UNK_ID,
  type AdaptationMethod,
  type BackboneConfig,
  type BackendChoice,
  type BackendName,
  type LoadedCheckpoint,
  type MethodName,
  type NamedTensor,
  type SerializedAdaptation,
  type VariantSpec,
} from '@reco/model';
