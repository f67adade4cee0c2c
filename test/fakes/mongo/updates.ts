/**
 * Document-level helpers of the MongoDB wire-protocol test server's engine (a test fixture, not
 * product): identity keys, copies, update application (operators through mingo, replacements by
 * hand), the new document of an upsert, and the E11000 write error.
 */
import { BSON, EJSON } from 'bson';
import { updateOne } from 'mingo';

export type Doc = Record<string, unknown>;

export interface WriteError {
  index: number;
  code: number;
  errmsg: string;
  [key: string]: unknown;
}

/** Map key for an `_id` of any BSON type: ObjectId, string or number ids never collide. */
export const keyOf = (id: unknown): string => EJSON.stringify({ id }, { relaxed: false });

/** A deep copy that keeps BSON types, so stored documents never share objects with requests. */
export const copy = (doc: Doc): Doc => BSON.deserialize(BSON.serialize(doc));

const isOperatorDoc = (value: unknown): value is Doc =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).some((k) => k.startsWith('$'));

/** The document after update `u` (operators, a pipeline, or a replacement); `current` is left alone. */
export function applyUpdate(current: Doc, u: Doc | Doc[], inserting: boolean): Doc {
  if (!Array.isArray(u) && !isOperatorDoc(u)) return { _id: current._id, ...copy(u) };
  let modifier: Doc | Doc[] = u;
  if (!Array.isArray(u)) {
    const { $setOnInsert, ...rest } = u;
    // mingo has no $setOnInsert: on insert it is a $set, on update nothing.
    modifier = inserting && $setOnInsert ? { ...rest, $set: { ...(rest.$set as Doc | undefined), ...($setOnInsert as Doc) } } : rest;
  }
  const target = [copy(current)];
  if (Array.isArray(modifier) || Object.keys(modifier).length > 0) updateOne(target, {}, modifier as Parameters<typeof updateOne>[2]);
  return target[0]!;
}

/** The document an upsert starts from when its filter matched nothing: the filter's equalities. */
export function upsertSeed(q: Doc): Doc {
  const { _id, ...equalities } = equalityFields(q);
  // Through $set so that dotted filter paths become nested fields, as on the server (mingo
  // refuses to $set _id, so that one is copied).
  const seed = Object.keys(equalities).length > 0 ? applyUpdate({}, { $set: equalities }, false) : {};
  if (_id !== undefined) seed._id = _id;
  return seed;
}

function equalityFields(q: Doc): Doc {
  const fields: Doc = {};
  for (const [key, value] of Object.entries(q)) {
    if (key === '$and' && Array.isArray(value)) Object.assign(fields, ...value.map((v) => equalityFields(v as Doc)));
    if (key.startsWith('$')) continue;
    if (!isOperatorDoc(value)) fields[key] = value;
    else if ('$eq' in value) fields[key] = value.$eq;
  }
  return copy(fields);
}

export function duplicateKey(index: number, ns: string, id: unknown): WriteError {
  const errmsg = `E11000 duplicate key error collection: ${ns} index: _id_ dup key: { _id: ${EJSON.stringify(id)} }`;
  return { index, code: 11000, errmsg, keyPattern: { _id: 1 }, keyValue: { _id: id } };
}
