/**
 * HERALD_<PROVIDER>_TIMEOUT_MS, end to end per provider: read from the environment by the
 * provider's own loader, handed to the real SDK, and honoured against the fake provider server
 * when it never answers: the call fails as a transient `timeout` (retried by the delivery
 * processor) after the configured time, far sooner than the default.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/configError.ts';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { APNS_DEFAULT_TIMEOUT_MS, createApnsProvider, loadApnsConfig } from '../../src/adapters/providers/apns/index.ts';
import { FCM_DEFAULT_TIMEOUT_MS, createFcmProvider, loadFcmConfig, type FcmTransport } from '../../src/adapters/providers/fcm/index.ts';
import { SENDGRID_DEFAULT_TIMEOUT_MS, createSendgridProvider, loadSendgridConfig } from '../../src/adapters/providers/sendgrid/index.ts';
import { TWILIO_DEFAULT_TIMEOUT_MS, createTwilioProvider, loadTwilioConfig } from '../../src/adapters/providers/twilio/index.ts';
import { startFakeApns } from '../fakes/apnsServer.ts';
import { FakeRouteAgent, startFakeFcm } from '../fakes/fcmServer.ts';
import { startFakeSendgrid } from '../fakes/sendgridServer.ts';
import { startFakeTwilio } from '../fakes/twilioServer.ts';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const dir = mkdtempSync(join(tmpdir(), 'herald-timeouts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TWILIO = { HERALD_TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`, HERALD_TWILIO_AUTH_TOKEN: 'f'.repeat(32), HERALD_TWILIO_FROM: '+15005550006' };
const SENDGRID = { HERALD_SENDGRID_API_KEY: 'SG.test-key.abcdefghijklmnopqrstuvwxyz', HERALD_SENDGRID_FROM: 'news@herald.example' };
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const fcmCredentials = (projectId: string): string => {
  const path = join(dir, `${projectId}.json`);
  writeFileSync(path, JSON.stringify({ type: 'service_account', project_id: projectId, client_email: 'herald@herald-test.iam.gserviceaccount.com', private_key: rsaKey }));
  return path;
};
const APNS = { HERALD_APNS_KEY: ecKey.replace(/\n/g, '\\n'), HERALD_APNS_KEY_ID: 'ABCDEF1234', HERALD_APNS_TEAM_ID: 'TEAM123456', HERALD_APNS_BUNDLE_ID: 'com.example.herald' };

/** Each provider's variable, its default, and an environment that configures the provider (or leaves it unset). */
const SETTINGS = [
  { name: 'HERALD_APNS_TIMEOUT_MS', defaultMs: APNS_DEFAULT_TIMEOUT_MS, load: (env: NodeJS.ProcessEnv) => loadApnsConfig(env)?.timeoutMs, configured: APNS },
  { name: 'HERALD_FCM_TIMEOUT_MS', defaultMs: FCM_DEFAULT_TIMEOUT_MS, load: (env: NodeJS.ProcessEnv) => loadFcmConfig(env)?.timeoutMs, configured: { HERALD_FCM_CREDENTIALS: fcmCredentials('herald-test') } },
  { name: 'HERALD_TWILIO_TIMEOUT_MS', defaultMs: TWILIO_DEFAULT_TIMEOUT_MS, load: (env: NodeJS.ProcessEnv) => loadTwilioConfig(env)?.timeoutMs, configured: TWILIO },
  { name: 'HERALD_SENDGRID_TIMEOUT_MS', defaultMs: SENDGRID_DEFAULT_TIMEOUT_MS, load: (env: NodeJS.ProcessEnv) => loadSendgridConfig(env)?.timeoutMs, configured: SENDGRID },
];

describe('HERALD_<PROVIDER>_TIMEOUT_MS', () => {
  for (const { name, defaultMs, load, configured } of SETTINGS) {
    it(`${name}: the default when unset, the value when set, and alone it configures nothing`, () => {
      assert.equal(load(configured), defaultMs);
      assert.equal(load({ ...configured, [name]: ' 2500 ' }), 2500);
      assert.equal(load({ [name]: '2500' }), undefined, 'set alone, the provider stays on the sandbox');
    });

    for (const bad of ['soon', '0', '99', '1.5', '50001', '-300']) {
      it(`${name}=${bad} stops start-up, with or without credentials, saying what to set`, () => {
        for (const env of [{}, configured]) {
          assert.throws(() => load({ ...env, [name]: bad }), (err: unknown) => {
            assert.ok(err instanceof ConfigError);
            assert.ok(err.message.includes(name) && err.message.includes(`"${bad}"`), err.message);
            assert.match(err.message, new RegExp(`whole number of milliseconds from 100 to 50000 \\(default ${defaultMs}\\)`));
            return true;
          });
        }
      });
    }
  }
});

/** Sends one message through `provider` and returns its result and how long the call took. */
async function timed(provider: DeliveryProvider, message: DeliveryMessage): Promise<{ result: DeliveryResult | undefined; ms: number }> {
  const started = performance.now();
  const [result] = await provider.send([message]);
  return { result, ms: performance.now() - started };
}

/** A transient timeout, no sooner than the configured 400 ms and long before any provider's default (5 s and more). */
function assertTimedOut({ result, ms }: { result: DeliveryResult | undefined; ms: number }): void {
  assert.deepEqual([result?.status, result?.status === 'failed' ? result.reason : undefined], ['failed', 'timeout']);
  assert.ok(ms >= 390, `failed after ${Math.round(ms)} ms, before the configured 400 ms`);
  assert.ok(ms < 2_500, `failed after ${Math.round(ms)} ms, not after the configured 400 ms`);
}

describe('a provider server that never answers fails the call after the configured timeout, as a retryable timeout', () => {
  it('APNs (node-apn over HTTP/2)', async () => {
    const fake = await startFakeApns();
    const { key, keyId, teamId, bundleId } = fake.credentials;
    const config = loadApnsConfig({ HERALD_APNS_KEY: key, HERALD_APNS_KEY_ID: keyId, HERALD_APNS_TEAM_ID: teamId, HERALD_APNS_BUNDLE_ID: bundleId, HERALD_APNS_TIMEOUT_MS: '400' });
    const provider = createApnsProvider(config!, quiet, { address: fake.address, port: fake.port, ca: [fake.ca] });
    try {
      fake.delay(600_000);
      assertTimedOut(await timed(provider, { route: 'apns', notificationId: 'n1', to: 'ab'.repeat(32), content: { title: 't', body: 'b' } }));
    } finally {
      await provider.close();
      await fake.close();
    }
  });

  for (const transport of ['http1', 'http2'] as const satisfies readonly FcmTransport[]) {
    it(`FCM (firebase-admin, ${transport})`, async () => {
      const fake = await startFakeFcm();
      const config = loadFcmConfig({ HERALD_FCM_CREDENTIALS: fcmCredentials(fake.projectId), HERALD_FCM_TRANSPORT: transport, HERALD_FCM_TIMEOUT_MS: '400' });
      const agent = new FakeRouteAgent(fake.port, fake.ca);
      const unroute = transport === 'http2' ? fake.routeHttp2() : () => undefined;
      const provider = createFcmProvider(config!, quiet, { credential: fake.credential, ...(transport === 'http1' ? { httpAgent: agent } : {}) });
      try {
        fake.delay(600_000);
        assertTimedOut(await timed(provider, { route: 'fcm', notificationId: 'n1', to: `t-${'x'.repeat(140)}`, content: { title: 't', body: 'b' } }));
      } finally {
        fake.delay(0);
        await provider.close();
        unroute();
        agent.destroy();
        await fake.close();
      }
    });
  }

  it('Twilio (twilio SDK, Herald\'s request client)', async () => {
    const fake = await startFakeTwilio({ accountSid: TWILIO.HERALD_TWILIO_ACCOUNT_SID, password: TWILIO.HERALD_TWILIO_AUTH_TOKEN });
    const provider = createTwilioProvider(loadTwilioConfig({ ...TWILIO, HERALD_TWILIO_BASE_URL: fake.baseUrl, HERALD_TWILIO_TIMEOUT_MS: '400' })!, quiet);
    try {
      fake.setDelay(600_000);
      assertTimedOut(await timed(provider, { route: 'sms', notificationId: 'n1', to: '+14155550100', content: { body: 'b' } }));
    } finally {
      await provider.close();
      await fake.close();
    }
  });

  it('SendGrid (@sendgrid/mail)', async () => {
    const fake = await startFakeSendgrid({ apiKey: SENDGRID.HERALD_SENDGRID_API_KEY });
    const provider = createSendgridProvider(loadSendgridConfig({ ...SENDGRID, HERALD_SENDGRID_BASE_URL: fake.baseUrl, HERALD_SENDGRID_TIMEOUT_MS: '400' })!, quiet);
    try {
      fake.setDelay(600_000);
      assertTimedOut(await timed(provider, { route: 'email', notificationId: 'n1', to: 'ada@example.com', content: { subject: 's', text: 't' } }));
    } finally {
      await provider.close();
      await fake.close();
    }
  });

  it('SendGrid: a call of many contents ends within its budget, the requests that would outlast it not started', async () => {
    const fake = await startFakeSendgrid({ apiKey: SENDGRID.HERALD_SENDGRID_API_KEY });
    const config = loadSendgridConfig({ ...SENDGRID, HERALD_SENDGRID_BASE_URL: fake.baseUrl, HERALD_SENDGRID_TIMEOUT_MS: '400' })!;
    // One request per distinct content, four at a time, each given 400 ms: rounds start at about 0,
    // 400 and 800 ms; one starting past 1,000 ms could not end within the 1,400 ms budget.
    const provider = createSendgridProvider(config, quiet, { callBudgetMs: 1_400 });
    try {
      fake.setDelay(600_000);
      const messages = Array.from({ length: 13 }, (_, i): DeliveryMessage => ({ route: 'email', notificationId: `n${i}`, to: `u${i}@example.com`, content: { subject: `s${i}`, text: 't' } }));
      const started = Date.now();
      const results = await provider.send(messages);
      const ms = Date.now() - started;
      // The budget bounds when a request may start; its end may come a little later on a loaded machine.
      assert.ok(ms < 1_700, `the call took ${ms} ms, past its 1,400 ms budget`);
      assert.deepEqual(results.map((r) => r.status === 'failed' && r.reason), Array(13).fill('timeout'));
      assert.ok(fake.arrived >= 8 && fake.arrived <= 12, `${fake.arrived} requests sent: the 13th content's would have started past the budget`);
    } finally {
      await provider.close();
      await fake.close();
    }
  });
});
