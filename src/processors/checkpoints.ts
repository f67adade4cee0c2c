import type { Projection } from '../projections/projection.ts';

/** A read model's checkpoint name carries the projection's version: new code starts a new checkpoint. */
export const checkpointName = (projection: Projection, collection = projection.collection.name) => `${collection}@v${projection.version}`;
