/**
 * What is known about an item beyond its id. It has its own module so that the checkpoint, which
 * carries it next to the vocabulary, depends on this shape and not on a particular loader.
 */
export interface ItemMetadata {
  title: string;
  /** Genres, departments, tags: free-form labels, in the order the source lists them. */
  categories: string[];
}
