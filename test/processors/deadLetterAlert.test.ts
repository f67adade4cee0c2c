import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { DeadLetterAlert } from '../../src/processors/deadLetterAlert.ts';
import { deadLetters } from '../../src/projections/deadLetters.ts';
import { capturingLogger } from '../support/logLines.ts';
import { startAlertWebhook } from '../fakes/alertWebhook.ts';

describe('the dead-letter alert', () => {
  it('sends an alert the webhook did not accept again at the next check, until it is accepted, then not again for that crossing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-alert-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    // The operators' endpoint fails twice (a 503, then the connection dropped), then accepts.
    const answers = [503, 'drop', 204] as const;
    const hook = await startAlertWebhook((n) => answers[Math.min(n, answers.length) - 1]!);
    const posts = hook.posts;
    const { logger, lines } = capturingLogger();
    const alert = new DeadLetterAlert(events, readModels, logger, { threshold: 1, intervalMs: 1000, webhookUrl: hook.url });
    try {
      await readModels.ensureCollection(deadLetters.collection);
      await readModels.commit([{ collection: deadLetters.collection.name, id: 'n1:sms', doc: { channel: 'sms', route: 'sms', reason: 'http_503', failedAt: '2026-11-23T10:00:00.000Z' }, position: 1 }]);
      for (let check = 1; check <= 4; check++) assert.equal(await alert.check(), 1);
      assert.equal(posts.length, 3, 'posted at each check until accepted, and not after');
      for (const post of posts) assert.equal((post as { alert: string }).alert, 'dead_letters_over_threshold');
      assert.equal(lines.filter((l) => l.level === 'error').length, 1, 'one error line for the crossing');
      const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.msg ?? '');
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /^alert webhook answered with an error status; the alert is sent again at the next check \(every 1000 ms\) until it is accepted$/);
      assert.match(warnings[1]!, /^alert webhook unreachable; check HERALD_ALERT_WEBHOOK_URL; the alert is sent again/);

      // Below the threshold the crossing ends; the next one alerts (and posts) again.
      await readModels.commit([{ collection: deadLetters.collection.name, id: 'n1:sms', doc: null, position: 2 }]);
      assert.equal(await alert.check(), 0);
      await readModels.commit([{ collection: deadLetters.collection.name, id: 'n2:sms', doc: { channel: 'sms', route: 'sms', reason: 'http_503', failedAt: '2026-11-23T11:00:00.000Z' }, position: 3 }]);
      assert.equal(await alert.check(), 1);
      assert.equal(posts.length, 4);
      assert.equal(lines.filter((l) => l.level === 'error').length, 2);
    } finally {
      alert.stop();
      await hook.close();
      await readModels.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
