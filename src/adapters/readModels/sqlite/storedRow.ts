/** A read-model table's row as SQLite returns it, and the stored document it is read as. */
import type { JsonObject } from '../../../ports/eventStore.ts';
import type { StoredDoc } from '../../../ports/readModelStore.ts';

export interface Row {
  id: string;
  position: number;
  doc: string | null;
}

export function toStored(row: Row): StoredDoc {
  return { id: row.id, position: row.position, doc: JSON.parse(row.doc ?? 'null') as JsonObject };
}
