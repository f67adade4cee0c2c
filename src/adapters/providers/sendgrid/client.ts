/**
 * The only file that imports the SendGrid SDK. It sends one v3 mail/send request (one content,
 * one personalization per recipient, with that recipient's substitutions and headers) and turns the answer
 * into a value: the X-Message-Id, or the SDK's error.
 *
 * Each gateway owns a `new MailService()` (which builds its own API client) instead of the
 * module singleton, so two credential sets can never overwrite each other's key or base URL.
 */
import http from 'node:http';
import https from 'node:https';
import { MailService } from '@sendgrid/mail';
import type { EmailAddress, SendgridConfig } from './config.ts';

export interface MailRecipient {
  to: string;
  notificationId: string;
  /** Literal tag → value, applied by SendGrid to this recipient's subject and content. */
  substitutions?: Record<string, string>;
  /** Mail headers of this recipient's email (List-Unsubscribe), sent as the personalization's `headers`. */
  headers?: Record<string, string>;
}
export interface OutgoingMail {
  subject: string;
  text?: string;
  html?: string;
  recipients: readonly MailRecipient[];
}
export type MailOutcome = { ok: true; messageId: string | undefined } | { ok: false; error: unknown };

export interface SendgridGateway {
  send(mail: OutgoingMail): Promise<MailOutcome>;
  close(): void;
}

/** Lets SendGrid's event webhook and stats group Herald's mail. */
const CATEGORY = 'herald';

/** The SDK declares the client only as setClient's parameter; the instance is a public field. */
type ApiClient = Parameters<MailService['setClient']>[0];

function content(mail: OutgoingMail): { type: string; value: string }[] {
  // SendGrid requires text/plain before text/html.
  return [
    ...(mail.text ? [{ type: 'text/plain', value: mail.text }] : []),
    ...(mail.html ? [{ type: 'text/html', value: mail.html }] : []),
  ];
}

function toMailData(mail: OutgoingMail, from: EmailAddress, replyTo: EmailAddress | undefined) {
  const [first, ...rest] = content(mail);
  if (!first) throw new Error('an email needs text or html content');
  return {
    from,
    ...(replyTo ? { replyTo } : {}),
    subject: mail.subject,
    content: [first, ...rest] as [typeof first, ...(typeof first)[]],
    categories: [CATEGORY],
    // Tags are literal strings; by default the SDK would wrap every key in {{ }}.
    substitutionWrappers: ['', ''],
    // custom_args travel with every webhook event, so results can be matched per notification
    // even though the whole request shares one X-Message-Id.
    personalizations: mail.recipients.map((recipient) => ({
      to: [{ email: recipient.to }],
      customArgs: { notificationId: recipient.notificationId },
      ...(recipient.substitutions ? { substitutions: recipient.substitutions } : {}),
      ...(recipient.headers ? { headers: recipient.headers } : {}),
    })),
  };
}

export function createSendgridGateway(config: SendgridConfig): SendgridGateway {
  const service = new MailService();
  service.setApiKey(config.apiKey);
  service.setTimeout(config.timeoutMs);
  const client = (service as unknown as { client: ApiClient }).client;
  // Pooled agents of our own, so close() releases the sockets on shutdown.
  // axios takes httpAgent too, though the SDK's request type only declares httpsAgent.
  const agents = { httpAgent: new http.Agent({ keepAlive: true }), httpsAgent: new https.Agent({ keepAlive: true }) };
  const defaults = { url: '', ...agents };
  client.setDefaultRequest(defaults);
  // After setApiKey, which resets baseUrl to the region's host.
  if (config.baseUrl) client.setDefaultRequest('baseUrl', config.baseUrl);

  async function send(mail: OutgoingMail): Promise<MailOutcome> {
    try {
      const [response] = await service.send(toMailData(mail, config.from, config.replyTo));
      const headers = response.headers as Record<string, unknown>;
      const messageId = headers['x-message-id'];
      return { ok: true, messageId: typeof messageId === 'string' ? messageId : undefined };
    } catch (error) {
      return { ok: false, error };
    }
  }

  return {
    send,
    close: () => {
      agents.httpAgent.destroy();
      agents.httpsAgent.destroy();
    },
  };
}
