import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexDescription } from '../../src/adapters/readModels/mongodb/queries.ts';

describe('MongoDB index descriptions', () => {
  it('keys a full index by the fields under doc, then _id, with the default name', () => {
    assert.deepEqual(indexDescription(['userId', 'requestedAt']), { key: { 'doc.userId': 1, 'doc.requestedAt': 1, _id: 1 } });
    assert.deepEqual(indexDescription('status'), { key: { 'doc.status': 1, _id: 1 } });
  });

  it('makes a sparse index partial on documents that have the first field, under a name of its own', () => {
    assert.deepEqual(indexDescription({ fields: ['granularity', 'bucket'], sparse: true }), {
      key: { 'doc.granularity': 1, 'doc.bucket': 1, _id: 1 },
      name: 'doc.granularity_1_doc.bucket_1__id_1_sparse',
      partialFilterExpression: { 'doc.granularity': { $exists: true } },
    });
  });
});
