/**
 * The four local fake provider servers from test/fakes, and the REAL SDK adapters pointed at
 * them, so every delivery goes through firebase-admin, node-apn, twilio and @sendgrid/mail.
 * Providers are closed by Herald's stop(), so each Herald start asks for a fresh set.
 */
import type { DeliveryProvider, Route } from '../../ports/deliveryProvider.ts';
import type { Logger } from '../../ports/logger.ts';
import { createApnsProvider } from '../../adapters/providers/apns/index.ts';
import { createFcmProvider } from '../../adapters/providers/fcm/index.ts';
import { createSendgridProvider } from '../../adapters/providers/sendgrid/index.ts';
import { createTwilioProvider } from '../../adapters/providers/twilio/index.ts';
import { startFakeApns, type FakeApns } from '../../../test/fakes/apnsServer.ts';
import { startFakeFcm, type FakeFcm } from '../../../test/fakes/fcmServer.ts';
import { startFakeSendgrid, type FakeSendgrid } from '../../../test/fakes/sendgridServer.ts';
import { startFakeTwilio, type FakeTwilio } from '../../../test/fakes/twilioServer.ts';

const TWILIO_SID = `AC${'b'.repeat(32)}`;
const TWILIO_TOKEN = 'e'.repeat(32);
const SENDGRID_KEY = 'SG.bench-key.abcdefghijklmnopqrstuvwxyz';

export interface BenchFakes {
  apns: FakeApns;
  fcm: FakeFcm;
  twilio: FakeTwilio;
  sendgrid: FakeSendgrid;
  /** Provider calls each fake answered so far (its request log is emptied as it goes). */
  received(): Record<Route, number>;
  /** What the fakes found wrong with requests: must stay 0. */
  violations(): number;
  /** Real SDK providers pointed at the fakes, for one Herald start. */
  providers(logger: Logger): Record<Route, DeliveryProvider>;
  close(): Promise<void>;
}

export async function startBenchFakes(): Promise<BenchFakes> {
  const [apns, fcm, twilio, sendgrid] = await Promise.all([
    startFakeApns(),
    startFakeFcm(),
    startFakeTwilio({ accountSid: TWILIO_SID, password: TWILIO_TOKEN }),
    startFakeSendgrid({ apiKey: SENDGRID_KEY }),
  ]);
  const seen: Record<Route, number> = { apns: 0, fcm: 0, sms: 0, email: 0 };
  let violations = 0;
  // The fakes keep every request for assertions; the benchmark only counts them.
  const drain = () => {
    seen.apns += apns.requests.length;
    seen.fcm += fcm.requests.length;
    seen.sms += twilio.requests.length;
    seen.email += sendgrid.requests.length;
    violations += apns.violations.length + fcm.violations.length;
    for (const list of [apns.requests, fcm.requests, twilio.requests, sendgrid.requests, apns.violations, fcm.violations]) list.length = 0;
  };
  const timer = setInterval(drain, 500);
  timer.unref();
  return {
    apns,
    fcm,
    twilio,
    sendgrid,
    received: () => (drain(), { ...seen }),
    violations: () => (drain(), violations),
    providers: (logger) => ({
      apns: createApnsProvider({ ...apns.credentials, production: false }, logger, { address: apns.address, port: apns.port, ca: [apns.ca] }),
      // The credential replaces the OAuth exchange, so the private key is never used.
      fcm: createFcmProvider({ projectId: fcm.projectId, clientEmail: 'bench@herald-test.iam.gserviceaccount.com', privateKey: 'unused' }, logger, { credential: fcm.credential, httpAgent: fcm.httpAgent }),
      // Twilio's real per-sender limit is an account setting; the benchmark measures Herald, not it.
      sms: createTwilioProvider({ accountSid: TWILIO_SID, auth: { kind: 'authToken', authToken: TWILIO_TOKEN }, sender: { kind: 'from', from: '+15005550006' }, baseUrl: twilio.baseUrl, ratePerSecond: 10_000, timeoutMs: 10_000 }, logger),
      email: createSendgridProvider({ apiKey: SENDGRID_KEY, from: { email: 'news@herald.example', name: 'Herald' }, baseUrl: sendgrid.baseUrl, timeoutMs: 10_000 }, logger),
    }),
    close: async () => {
      clearInterval(timer);
      await Promise.all([apns.close(), fcm.close(), twilio.close(), sendgrid.close()]);
    },
  };
}
