/**
 * The four fake provider servers (test/fakes) in their own process, as real providers would be:
 * their TLS, HTTP/2 and JSON work does not share Herald's threads. Started by the benchmark with
 * an IPC channel: it sends { ready: FakeEndpoints } once listening, answers 'counts' with the
 * provider calls answered, the connections they came over and the violations found, and exits on 'close'.
 */
import { startFakeApns } from '../test/fakes/apnsServer.ts';
import { startFakeFcm } from '../test/fakes/fcmServer.ts';
import { startFakeSendgrid } from '../test/fakes/sendgridServer.ts';
import { startFakeTwilio } from '../test/fakes/twilioServer.ts';
import { SENDGRID_KEY, TWILIO_SID, TWILIO_TOKEN, type FakeEndpoints } from '../src/cli/bench/fakeProviders.ts';

const [apns, fcm, twilio, sendgrid] = await Promise.all([
  startFakeApns(),
  startFakeFcm(),
  startFakeTwilio({ accountSid: TWILIO_SID, password: TWILIO_TOKEN }),
  startFakeSendgrid({ apiKey: SENDGRID_KEY }),
]);
const seen = { apns: 0, fcm: 0, sms: 0, email: 0 };
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
setInterval(drain, 500).unref();

process.on('message', (message: string) => {
  if (message === 'counts') {
    drain();
    const connections = { apns: apns.connections().total, fcm: fcm.connections().total, sms: twilio.connections().total, email: sendgrid.connections().total };
    process.send!({ counts: { received: { ...seen }, connections, violations } });
  }
  if (message === 'close') void Promise.all([apns.close(), fcm.close(), twilio.close(), sendgrid.close()]).then(() => process.exit(0));
});
// The benchmark died: do not outlive it.
process.on('disconnect', () => process.exit(0));

const ready: FakeEndpoints = {
  apns: { port: apns.port, ca: apns.ca, credentials: apns.credentials },
  fcm: { port: fcm.port, ca: fcm.ca, projectId: fcm.projectId, accessToken: fcm.accessToken },
  twilio: { baseUrl: twilio.baseUrl },
  sendgrid: { baseUrl: sendgrid.baseUrl },
};
process.send!({ ready });
