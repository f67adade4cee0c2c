/** Time and ids come from outside the domain so tests can pin them. */
export interface Clock {
  now(): Date;
}
export interface IdGenerator {
  /** Time-ordered unique id (UUID v7). */
  next(): string;
}
