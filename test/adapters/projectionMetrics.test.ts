import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { Metrics } from '../../src/metrics.ts';

const at = '2026-11-23T10:00:00.000Z';

describe('projection gauges in /metrics', () => {
  it('report each read model’s position and the age of the oldest event of its types it has not applied', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-projmetrics-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    try {
      await events.append('user-u1', [{ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'a@example.com', at } }], 'no_stream');
      await events.append('app-a1', [{ type: 'ApiKeyIssued', data: { appId: 'a1', at } }], 'no_stream');
      const [profile, other] = await events.readAll();
      const positions = new Map([['contacts', 0], ['apps', 0]]);
      const projector = { projections: [{ name: 'contacts', eventTypes: ['UserProfileUpdated'] }, { name: 'apps', eventTypes: ['ApiKeyIssued'] }, { name: 'not-started', eventTypes: ['X'] }], positions };
      const metrics = new Metrics({ processMetrics: false });
      metrics.watchProjections(events, projector, () => profile!.created + 1500);
      const scrape = async () => (await metrics.render()).body;
      const appsLag = `${(profile!.created + 1500 - other!.created) / 1000}`.replace('.', '\\.');

      let body = await scrape();
      assert.match(body, /herald_projection_position\{projection="contacts"\} 0\n/);
      assert.match(body, /herald_projection_lag_seconds\{projection="contacts"\} 1\.5\n/);
      assert.match(body, new RegExp(`herald_projection_lag_seconds\\{projection="apps"\\} ${appsLag}\\n`));
      // A read model the projector does not run (no position) is left out, not shown as up to date.
      assert.doesNotMatch(body, /not-started/);

      // Past its own last event, a read model is up to date even though the log goes on with other types.
      positions.set('contacts', profile!.position);
      body = await scrape();
      assert.match(body, new RegExp(`herald_projection_position\\{projection="contacts"\\} ${profile!.position}\\n`));
      assert.match(body, /herald_projection_lag_seconds\{projection="contacts"\} 0\n/);
      assert.match(body, new RegExp(`herald_projection_lag_seconds\\{projection="apps"\\} ${appsLag}\\n`));

      positions.set('apps', other!.position);
      assert.match(await scrape(), /herald_projection_lag_seconds\{projection="apps"\} 0\n/);

      // A store that cannot be read leaves the lag out rather than reporting 0.
      await events.close();
      body = await scrape();
      assert.doesNotMatch(body, /herald_projection_lag_seconds\{/);
      assert.match(body, /herald_projection_position\{projection="apps"\}/);
    } finally {
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
