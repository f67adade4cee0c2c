/**
 * Command dispatch for the MongoDB wire-protocol test server (a test fixture, not product).
 * Answers what the Node driver 7 sends for the read-model adapter and its tests: the handshake
 * (hello / isMaster, as a standalone server of wire version 21 = MongoDB 7.0), ping, buildInfo,
 * endSessions; create, drop, dropDatabase, renameCollection, listCollections, createIndexes,
 * listIndexes, dropIndexes (one index by name); find, aggregate, count, getMore, killCursors; insert, update, delete. Anything
 * else gets CommandNotFound, so a driver change shows up as a clear failure. Sessions are
 * accepted and ignored; there are no transactions, auth or compression.
 */
import { Long } from 'bson';
import { find as mingoFind } from 'mingo';
import { CommandError } from './engine.ts';
import type { MongoEngine } from './engine.ts';
import type { Doc } from './updates.ts';

const DEFAULT_BATCH = 101;

interface OpenCursor {
  ns: string;
  docs: Doc[];
}

export interface ConnectionContext {
  connectionId: number;
}

type Handler = (cmd: Doc, db: string, ctx: ConnectionContext) => Doc;

export class CommandDispatcher {
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = 1;
  private readonly handlers: Record<string, Handler>;
  /** Every command name received, in order: lets a test see what the driver really sent. */
  readonly received: string[] = [];

  /** `replicaSet`: answer the handshake as the primary of a one-member replica set of that name, at `address()`. */
  constructor(private readonly engine: MongoEngine, replicaSet?: { name: string; address: () => string }) {
    const member = () => (replicaSet ? { setName: replicaSet.name, hosts: [replicaSet.address()], primary: replicaSet.address(), me: replicaSet.address(), setVersion: 1, secondary: false } : {});
    const hello: Handler = (_cmd, _db, ctx) => ({
      ...member(),
      helloOk: true,
      isWritablePrimary: true,
      ismaster: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: ctx.connectionId,
      minWireVersion: 0,
      maxWireVersion: 21,
      readOnly: false,
    });
    const e = engine;
    this.handlers = {
      hello,
      isMaster: hello,
      ismaster: hello,
      ping: () => ({}),
      buildInfo: () => ({ version: '7.0.0', versionArray: [7, 0, 0, 0], maxBsonObjectSize: 16 * 1024 * 1024 }),
      endSessions: () => ({}),
      create: (cmd, db) => (e.create(db, String(cmd.create)), {}),
      drop: (cmd, db) => (e.drop(db, String(cmd.drop)), { ns: `${db}.${String(cmd.drop)}` }),
      dropDatabase: (_cmd, db) => (e.dropDatabase(db), { dropped: db }),
      renameCollection: (cmd) => (e.rename(String(cmd.renameCollection), String(cmd.to), cmd.dropTarget === true), {}),
      listCollections: (cmd, db) => {
        const all = e.collectionNames(db).map((name) => ({ name, type: 'collection', options: {}, info: { readOnly: false } }));
        const docs = mingoFind<Doc>(all, (cmd.filter as Doc | undefined) ?? {}).all();
        return this.cursor(`${db}.$cmd.listCollections`, docs, cmd.cursor as Doc | undefined);
      },
      createIndexes: (cmd, db) => {
        const r = e.createIndexes(db, String(cmd.createIndexes), cmd.indexes as Doc[]);
        return { numIndexesBefore: r.before, numIndexesAfter: r.after, createdCollectionAutomatically: r.createdCollection };
      },
      dropIndexes: (cmd, db) => {
        if (typeof cmd.index !== 'string') throw new CommandError(2, 'BadValue', 'this test server drops one index by name only');
        return { nIndexesWas: e.dropIndex(db, String(cmd.dropIndexes), cmd.index) };
      },
      listIndexes: (cmd, db) => this.cursor(`${db}.${String(cmd.listIndexes)}`, e.listIndexes(db, String(cmd.listIndexes)), cmd.cursor as Doc | undefined),
      find: (cmd, db) => {
        const docs = e.find(db, String(cmd.find), (cmd.filter as Doc | undefined) ?? {}, {
          sort: cmd.sort as Doc | undefined,
          skip: cmd.skip as number | undefined,
          limit: cmd.limit as number | undefined,
          projection: cmd.projection as Doc | undefined,
        });
        const single = cmd.singleBatch === true || (typeof cmd.limit === 'number' && cmd.limit < 0);
        return this.cursor(`${db}.${String(cmd.find)}`, docs, { batchSize: cmd.batchSize }, single);
      },
      aggregate: (cmd, db) => {
        if (typeof cmd.aggregate !== 'string') throw new CommandError(115, 'CommandNotSupported', 'the test server only aggregates over a collection');
        return this.cursor(`${db}.${cmd.aggregate}`, e.aggregate(db, cmd.aggregate, cmd.pipeline as Doc[]), cmd.cursor as Doc | undefined);
      },
      count: (cmd, db) => ({
        n: e.find(db, String(cmd.count), (cmd.query as Doc | undefined) ?? {}, { skip: cmd.skip as number | undefined, limit: cmd.limit as number | undefined }).length,
      }),
      getMore: (cmd) => this.getMore(Number(cmd.getMore), cmd.batchSize as number | undefined),
      killCursors: (cmd) => {
        const ids = (cmd.cursors as unknown[]).map(Number);
        const killed = ids.filter((id) => this.cursors.delete(id));
        return { cursorsKilled: killed.map((id) => Long.fromNumber(id)), cursorsNotFound: ids.filter((id) => !killed.includes(id)).map((id) => Long.fromNumber(id)), cursorsAlive: [], cursorsUnknown: [] };
      },
      insert: (cmd, db) => writeReply(e.insert(db, String(cmd.insert), cmd.documents as Doc[], cmd.ordered !== false)),
      update: (cmd, db) => writeReply(e.update(db, String(cmd.update), cmd.updates as Doc[], cmd.ordered !== false)),
      delete: (cmd, db) => ({ n: e.delete(db, String(cmd.delete), cmd.deletes as Doc[]) }),
    };
  }

  /** Runs one command; failures become `{ ok: 0, errmsg, code, codeName }` as the server sends them. */
  run(command: Doc, db: string, ctx: ConnectionContext): Doc {
    const name = Object.keys(command)[0] ?? '';
    this.received.push(name);
    const handler = Object.hasOwn(this.handlers, name) ? this.handlers[name] : undefined;
    try {
      if (!handler) throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
      return { ...handler(command, db, ctx), ok: 1 };
    } catch (error) {
      if (error instanceof CommandError) return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName };
      return { ok: 0, errmsg: error instanceof Error ? error.message : String(error), code: 2, codeName: 'BadValue' };
    }
  }

  /** First batch now; the rest stays behind a cursor id for getMore, as the server does. */
  private cursor(ns: string, docs: Doc[], options: Doc | undefined, singleBatch = false): Doc {
    const size = typeof options?.batchSize === 'number' && options.batchSize > 0 ? options.batchSize : DEFAULT_BATCH;
    const firstBatch = singleBatch ? docs : docs.slice(0, size);
    let id = 0;
    if (firstBatch.length < docs.length) {
      id = this.nextCursorId++;
      this.cursors.set(id, { ns, docs: docs.slice(size) });
    }
    return { cursor: { id: Long.fromNumber(id), ns, firstBatch } };
  }

  private getMore(id: number, batchSize: number | undefined): Doc {
    const open = this.cursors.get(id);
    if (!open) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
    const size = batchSize && batchSize > 0 ? batchSize : open.docs.length;
    const nextBatch = open.docs.splice(0, size);
    if (open.docs.length === 0) this.cursors.delete(id);
    return { cursor: { id: Long.fromNumber(open.docs.length === 0 ? 0 : id), ns: open.ns, nextBatch } };
  }
}

function writeReply(result: { n: number; writeErrors: unknown[]; [key: string]: unknown }): Doc {
  const { writeErrors, ...rest } = result;
  const reply: Doc = { ...rest };
  if (Array.isArray(reply.upserted) && reply.upserted.length === 0) delete reply.upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return reply;
}
