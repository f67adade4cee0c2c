/**
 * A stream-local projection's documents during a rebuild stream by stream (streamPass.ts): the
 * documents of the stream being applied, then, once it ends, its changes to write. Nothing else of
 * a stream is ever read again, so its documents are dropped as it ends and none outlives its
 * page: built in one go, written once. Fan-out documents (analytics buckets) take events from
 * every stream and stay in a DocCache, as in a rebuild in log order.
 */
import type { DocChange } from '../ports/readModelStore.ts';
import type { JsonObject } from '../ports/eventStore.ts';
import type { Projection } from '../projections/projection.ts';
import type { DocCache, Keyed } from './docCache.ts';
import { evolveDocs, type DocSource, type DocState } from './evolveDocs.ts';
import { ProjectionFault } from './projectionFault.ts';

export class StreamDocs implements DocSource {
  /** The documents of the stream being applied, by id. */
  private readonly current = new Map<string, DocState>();
  private stream = '';
  /** The main document of the event being applied: new to this stream unless in `current`. */
  private mainKey = '';
  private ended: DocChange[] = [];

  constructor(
    private readonly projection: Projection,
    readonly collection: string,
    private readonly fanOut: DocCache,
  ) {}

  lookup(id: string): DocState | undefined {
    const held = this.current.get(id);
    if (held) return held;
    // A stream's documents are its own: one not met yet in this stream has no event before it.
    if (id === this.mainKey) return { position: 0, doc: null };
    return this.fanOut.lookup(id);
  }

  write(id: string, state: DocState, position: number, doc: JsonObject | null): void {
    if (id !== this.mainKey && !this.current.has(id)) return this.fanOut.write(id, state, position, doc);
    const held = this.current.get(id);
    if (held) {
      held.position = position;
      held.doc = doc;
    } else this.current.set(id, { position, doc });
  }

  /** Applies a page's events, whole streams in order, each stream's events in order. */
  async apply(items: readonly Keyed[]): Promise<void> {
    for (let i = 0; i < items.length; ) {
      const { event, key } = items[i]!;
      if (event.streamName !== this.stream) {
        this.endStream();
        this.stream = event.streamName;
      }
      this.mainKey = key;
      let missing: readonly string[] | undefined;
      try {
        missing = evolveDocs(this.projection, event, key, this, 'streams');
      } catch (error) {
        throw new ProjectionFault(this.projection.name, event, error);
      }
      // Only fan-out documents can be missing (evicted, or from before a resumed run): load them
      // and apply the same event again, which has changed nothing yet.
      if (missing) await this.fanOut.load(missing);
      else i += 1;
    }
    // A page holds whole streams, so its last stream ends with it.
    this.endStream();
  }

  private endStream(): void {
    for (const [id, { position, doc }] of this.current) this.ended.push({ collection: this.collection, id, doc, position });
    this.current.clear();
    this.stream = '';
  }

  /** The documents of the streams ended since the last call, and (`fanOut`, also in `changes`) the fan-out documents written meanwhile. */
  takeChanges(): { changes: DocChange[]; fanOut: DocChange[] } {
    const changes = this.ended;
    this.ended = [];
    const fanOut = this.fanOut.takeChanges();
    for (const change of fanOut) changes.push(change);
    return { changes, fanOut };
  }
}
