/**
 * Framing for the MongoDB wire-protocol test server (a test fixture, not product): reads
 * OP_MSG (2013) and OP_QUERY (2004) requests off a byte stream and writes OP_MSG and OP_REPLY
 * (1) answers. OP_QUERY is only there because drivers send their first handshake (`hello` /
 * `isMaster` on `admin.$cmd`) with it before they know the server speaks OP_MSG.
 */
import { BSON } from 'bson';
import type { Document } from 'bson';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const CHECKSUM_PRESENT = 1;
const MORE_TO_COME = 2;

export interface WireRequest {
  requestId: number;
  /** The command document, document-sequence sections (kind 1) folded in as arrays. */
  command: Document;
  db: string;
  legacy: boolean;
  /** The client expects no answer (unacknowledged writes). */
  moreToCome: boolean;
}

/** Cuts complete messages off the front of `buffer`; returns them and the unread rest. */
export function readMessages(buffer: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let offset = 0;
  while (buffer.length - offset >= 4) {
    const length = buffer.readInt32LE(offset);
    if (length < 16) throw new Error(`bad message length ${length}`);
    if (buffer.length - offset < length) break;
    messages.push(buffer.subarray(offset, offset + length));
    offset += length;
  }
  return { messages, rest: buffer.subarray(offset) };
}

export function parseRequest(message: Buffer): WireRequest {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return parseOpMsg(message, requestId);
  if (opCode === OP_QUERY) return parseOpQuery(message, requestId);
  throw new Error(`unsupported opCode ${opCode} (the test server speaks OP_MSG, and OP_QUERY for the handshake)`);
}

function parseOpMsg(message: Buffer, requestId: number): WireRequest {
  const flags = message.readUInt32LE(16);
  const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
  let offset = 20;
  let body: Document | undefined;
  const sequences: Record<string, Document[]> = {};
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      const size = message.readInt32LE(offset);
      body = BSON.deserialize(message.subarray(offset, offset + size));
      offset += size;
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      const nameEnd = message.indexOf(0, offset + 4);
      const name = message.toString('utf8', offset + 4, nameEnd);
      const docs: Document[] = [];
      for (let at = nameEnd + 1; at < sectionEnd; ) {
        const docSize = message.readInt32LE(at);
        docs.push(BSON.deserialize(message.subarray(at, at + docSize)));
        at += docSize;
      }
      sequences[name] = docs;
      offset = sectionEnd;
    } else {
      throw new Error(`unsupported OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new Error('OP_MSG without a body section');
  const command = { ...body, ...sequences };
  return { requestId, command, db: String(body.$db ?? 'admin'), legacy: false, moreToCome: (flags & MORE_TO_COME) !== 0 };
}

function parseOpQuery(message: Buffer, requestId: number): WireRequest {
  const nameEnd = message.indexOf(0, 20);
  const fullName = message.toString('utf8', 20, nameEnd);
  const queryAt = nameEnd + 1 + 8; // skip numberToSkip and numberToReturn
  const size = message.readInt32LE(queryAt);
  let command = BSON.deserialize(message.subarray(queryAt, queryAt + size));
  // Drivers wrap the command in $query when they add read preferences.
  if (command.$query && typeof command.$query === 'object') command = command.$query as Document;
  if (!fullName.endsWith('.$cmd')) throw new Error(`OP_QUERY on ${fullName}: only commands are supported`);
  return { requestId, command, db: fullName.slice(0, -'.$cmd'.length), legacy: true, moreToCome: false };
}

export function encodeReply(request: WireRequest, reply: Document, ownRequestId: number): Buffer {
  const doc = BSON.serialize(reply);
  const header = Buffer.alloc(16);
  header.writeInt32LE(ownRequestId, 4);
  header.writeInt32LE(request.requestId, 8);
  let body: Buffer;
  if (request.legacy) {
    header.writeInt32LE(OP_REPLY, 12);
    body = Buffer.alloc(20); // responseFlags, cursorID (0), startingFrom, numberReturned
    body.writeInt32LE(1, 16);
  } else {
    header.writeInt32LE(OP_MSG, 12);
    body = Buffer.alloc(5); // flagBits 0, then section kind 0
  }
  const message = Buffer.concat([header, body, doc]);
  message.writeInt32LE(message.length, 0);
  return message;
}
