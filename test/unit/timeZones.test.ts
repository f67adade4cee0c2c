import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localDateTime, offsetText, startOfLocalDate } from '../../src/domain/timeZones.ts';

describe('local dates in a time zone', () => {
  it('starts a local date at its midnight, on days the clocks change too', () => {
    const cases: [date: string, zone: string, start: string][] = [
      ['2026-03-08', 'America/New_York', '2026-03-08T05:00:00.000Z'], // springs forward at 02:00 that day
      ['2026-11-01', 'America/New_York', '2026-11-01T04:00:00.000Z'], // falls back at 02:00 that day
      ['2026-11-28', 'Asia/Kolkata', '2026-11-27T18:30:00.000Z'],
      ['2026-11-28', 'Pacific/Kiritimati', '2026-11-27T10:00:00.000Z'],
      ['2026-11-28', 'UTC', '2026-11-28T00:00:00.000Z'],
    ];
    for (const [date, zone, start] of cases) {
      const at = startOfLocalDate(date, zone);
      assert.equal(at.toISOString(), start, `${date} ${zone}`);
      assert.deepEqual([localDateTime(at, zone).date, localDateTime(at, zone).minutes], [date, 0]);
      assert.ok(localDateTime(new Date(at.getTime() - 1), zone).date < date, 'the instant before is the day before');
    }
  });

  it('starts a day whose midnight the clocks skip when the gap ends (Santiago, 2026-09-06: 00:00 → 01:00)', () => {
    const at = startOfLocalDate('2026-09-06', 'America/Santiago');
    assert.equal(at.toISOString(), '2026-09-06T04:00:00.000Z');
    assert.deepEqual(localDateTime(at, 'America/Santiago'), { date: '2026-09-06', minutes: 60, offset: -180 });
    assert.equal(localDateTime(new Date(at.getTime() - 1), 'America/Santiago').date, '2026-09-05');
  });

  it('writes offsets as ISO 8601 does', () => {
    assert.deepEqual([offsetText(0), offsetText(60), offsetText(-300), offsetText(330), offsetText(-570)], ['+00:00', '+01:00', '-05:00', '+05:30', '-09:30']);
  });
});
