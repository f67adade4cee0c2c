/** How much a rebuild reads, holds and writes at a time (its options may override all but PAGE_STREAMS). */

// Small pages: a page's parsed events are alive until it is applied, and with 10,000 of them
// every young-generation GC found one alive and copied it (1,000: ≈10 % less CPU in all, 2026-11-27).
export const PAGE = 1_000;
export const FLUSH_EVENTS = 50_000;
export const MAX_DOCS = 20_000;
/**
 * Streams per page of the stream-by-stream part: about 200 events of notifications. A page's
 * events, read at once, stay alive until it is written; with 1,000 streams they outlived two
 * young-generation collections and were copied to the old one, which cost more than the page's
 * queries (2026-11-27: 346 against 129 MB promoted, 571 against 325 ms of pauses).
 */
export const PAGE_STREAMS = 100;
