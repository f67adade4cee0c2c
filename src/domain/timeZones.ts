/**
 * Local time in an IANA time zone, with what Intl gives (no library: Node's ICU has every zone's
 * rules). Pure: the same instant and zone always give the same answer.
 */

/** The zone's offset from UTC at `at`, in minutes (Europe/Berlin in winter: 60, Asia/Kolkata: 330). */
export function offsetMinutes(at: Date, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

/** The offset as ISO 8601 writes it: +01:00, -05:00, +05:30, and +00:00 for UTC. */
export function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The local date (2026-11-23) and time of day (minutes past midnight) at `at` in the zone. */
export function localDateTime(at: Date, timeZone: string): { date: string; minutes: number; offset: number } {
  const offset = offsetMinutes(at, timeZone);
  const local = new Date(at.getTime() + offset * 60_000);
  return { date: local.toISOString().slice(0, 10), minutes: local.getUTCHours() * 60 + local.getUTCMinutes(), offset };
}

/**
 * The first instant of a local date (YYYY-MM-DD) in the zone: its midnight, or the first time
 * after it that exists where the clocks skip midnight (America/Santiago, some springs).
 */
export function startOfLocalDate(date: string, timeZone: string): Date {
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  let at = midnightUtc - offsetMinutes(new Date(midnightUtc), timeZone) * 60_000;
  // The offset at the guess may differ from the one at local midnight (a change that day): once more.
  at = midnightUtc - offsetMinutes(new Date(at), timeZone) * 60_000;
  // A skipped midnight: the instant found reads the day before; the day starts when the gap ends.
  if (localDateTime(new Date(at), timeZone).date < date) at += (offsetMinutes(new Date(at + 86_400_000), timeZone) - offsetMinutes(new Date(at), timeZone)) * 60_000;
  return new Date(at);
}
