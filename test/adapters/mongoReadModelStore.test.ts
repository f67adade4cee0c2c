import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { ReadModelStoreUnavailableError, createMongoReadModelStore } from '../../src/adapters/readModels/mongodb/mongoReadModelStore.ts';
import { readModelStoreContract } from '../contracts/readModelStore.contract.ts';
import { startMongoTestServer } from '../fakes/mongo/server.ts';

readModelStoreContract('MongoDB (wire-protocol test server)', async () => {
  const server = await startMongoTestServer();
  return {
    open: () => createMongoReadModelStore(server.url, { dbName: 'herald_test' }),
    cleanup: () => server.close(),
  };
});

const realUrl = process.env.MONGODB_URL;
if (realUrl) {
  readModelStoreContract(`MongoDB at ${realUrl.replace(/\/\/[^@/]*@/, '//***@')}`, async () => {
    // One database per harness, dropped afterwards, so runs never see each other's data.
    const dbName = `herald_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    return {
      open: () => createMongoReadModelStore(realUrl, { dbName }),
      cleanup: async () => {
        const client = await MongoClient.connect(realUrl, { serverSelectionTimeoutMS: 5000 });
        try {
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  });
}

/** A port on which nothing listens: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('MongoDB read-model store start-up', () => {
  it('fails with an error that says what to check when nothing answers at the URL', async () => {
    const url = `mongodb://herald:s3cret@127.0.0.1:${await closedPort()}/herald`;
    await assert.rejects(createMongoReadModelStore(url, { serverSelectionTimeoutMS: 300 }), (error: unknown) => {
      assert.ok(error instanceof ReadModelStoreUnavailableError);
      assert.equal(error.code, 'read_model_store_unavailable');
      assert.match(error.message, /check MONGODB_URL/);
      assert.match(error.message, /127\.0\.0\.1/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });

  it('fails with an error that says what to check when the URL is not a MongoDB URL', async () => {
    await assert.rejects(createMongoReadModelStore('http://localhost:27017'), (error: unknown) => {
      assert.ok(error instanceof ReadModelStoreUnavailableError);
      assert.match(error.message, /not a valid connection string.*check MONGODB_URL/);
      return true;
    });
  });

  it('reads from the primary whatever read preference the URL names: a lagging secondary would make the projector lose updates', async () => {
    // A replica set whose only member is the primary: a read sent by the URL's preference to a
    // secondary finds no server and times out; a read from the primary is answered.
    const server = await startMongoTestServer({ replicaSet: 'rs0' });
    const store = await createMongoReadModelStore(`${server.url}/herald_rs?replicaSet=rs0&readPreference=secondary`, { serverSelectionTimeoutMS: 1_000 });
    try {
      await store.ensureCollection({ name: 'probe', indexes: [] });
      await store.commit([{ collection: 'probe', id: 'd1', doc: { k: 1 }, position: 1 }], { name: 'probe', position: 1 });
      assert.deepEqual(await store.get('probe', 'd1'), { id: 'd1', position: 1, doc: { k: 1 } });
      assert.equal((await store.getMany('probe', ['d1'])).size, 1);
      assert.equal(await store.count('probe'), 1);
    } finally {
      await store.close();
      await server.close();
    }
  });

  it('speaks the handshake and commands the real driver sends, batches included', async () => {
    const server = await startMongoTestServer();
    const store = await createMongoReadModelStore(server.url);
    try {
      await store.ensureCollection({ name: 'probe', indexes: ['k'] });
      const many = Array.from({ length: 250 }, (_, i) => ({ collection: 'probe', id: `d${String(i).padStart(3, '0')}`, doc: { k: i % 2 }, position: i + 1 }));
      await store.commit(many, { name: 'probe', position: 250 });
      await store.commit([{ collection: 'probe', id: 'd000', doc: { k: 9 }, position: 1 }]);
      assert.deepEqual(await store.get('probe', 'd000'), { id: 'd000', position: 1, doc: { k: 0 } });
      // More than the server's first batch of 101: the driver has to getMore.
      assert.equal((await store.find('probe')).length, 250);
      assert.equal((await store.find('probe', { where: { k: 1 }, limit: 120, offset: 5 })).length, 120);
      assert.equal(await store.count('probe', { where: { k: 0 } }), 125);
      for (const name of ['ismaster', 'ping', 'create', 'createIndexes', 'update', 'find', 'getMore', 'aggregate']) {
        assert.ok(server.received.includes(name), `driver sent ${name}`);
      }
    } finally {
      await store.close();
      await server.close();
    }
  });
});
