/**
 * A projection's own code (`keyOf` or `evolve`) threw on an event. Projections are pure, so the
 * same event fails the same way every time: retrying cannot help, and the follower stops that
 * projection alone instead of holding every read model back (see Follower).
 */
export interface FaultyEvent {
  type: string;
  position: number;
  streamName: string;
}

export class ProjectionFault extends Error {
  readonly event: FaultyEvent;

  constructor(
    readonly projection: string,
    event: FaultyEvent,
    readonly failure: unknown,
  ) {
    super(`projection ${projection} cannot apply ${event.type} of ${event.streamName} at position ${event.position}: ${failure instanceof Error ? failure.message : String(failure)}`);
    this.name = 'ProjectionFault';
    this.event = { type: event.type, position: event.position, streamName: event.streamName };
  }
}
