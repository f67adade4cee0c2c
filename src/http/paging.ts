/**
 * Keyset paging for the list routes: a page ends with `nextCursor`, which names its last item (its
 * sort value and id); passing it back as `cursor` reads on from there. Unlike `offset`, a next
 * page neither repeats nor skips an item when newer ones arrive meanwhile.
 */
import { z } from 'zod';
import type { FieldValue, ReadModelStore, StoredDoc } from '../ports/readModelStore.ts';
import { queryInt, queryParams } from './query.ts';

type After = { value: FieldValue; id: string };

const encoded = z.object({ v: z.union([z.string(), z.number()]), id: z.string() });

export const pageCursor = z
  .string()
  .max(1024)
  .transform((text, ctx): After => {
    try {
      const { v, id } = encoded.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
      return { value: v, id };
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a cursor from this list: pass the nextCursor of the page before, unchanged' });
      return z.NEVER;
    }
  })
  .describe('the nextCursor of the page before; reads on after its last item');

export const nextCursorField = z.string().nullable().describe('pass as cursor for the next page; null on the last page');

/** Refuses a cursor and an offset together: they would disagree about where the page starts. */
export const notBoth = (q: { cursor?: After | undefined; offset: number }) => q.cursor === undefined || q.offset === 0;
export const notBothMessage = { message: 'use cursor or offset, not both', path: ['offset'] };

/**
 * The page from `limit + 1` documents found in `field`'s order: the first `limit`, and the cursor
 * after the last of them when there was one more.
 */
export function pageOf(found: readonly StoredDoc[], limit: number, field: string): { docs: StoredDoc[]; nextCursor: string | null } {
  if (found.length <= limit) return { docs: [...found], nextCursor: null };
  const docs = found.slice(0, limit);
  const last = docs.at(-1)!;
  const v = last.doc[field];
  const cursor = Buffer.from(JSON.stringify({ v, id: last.id }), 'utf8').toString('base64url');
  return { docs, nextCursor: cursor };
}

/** A page of a whole collection in `field`'s order (ascending), `limit` at a time, with its next cursor. */
export async function listPage(readModels: ReadModelStore, collection: string, field: string, limit: number, cursor: After | undefined): Promise<{ docs: StoredDoc[]; nextCursor: string | null }> {
  const found = await readModels.find(collection, { orderBy: { field, direction: 'asc' }, limit: limit + 1, ...(cursor ? { after: cursor } : {}) });
  return pageOf(found, limit, field);
}

/** The query of a whole-collection list: `limit` and `cursor`. */
export const listQuery = queryParams({ limit: queryInt(1, 200).default(50), cursor: pageCursor.optional() });
