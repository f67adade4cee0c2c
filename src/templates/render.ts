/**
 * Rendering a template version for one recipient: pick the locale per channel (locales.ts), render
 * each part with the parameters. What the send path checks up front is in parameterChecks.ts.
 */
import { CHANNELS, type Channel, type ChannelContent } from '../domain/channels.ts';
import type { TemplateVersion } from '../domain/template.ts';
import type { AlertPush } from '../ports/deliveryProvider.ts';
import { guardedParams, renderPart, TemplateRenderError } from './engine.ts';
import { resolveLocale } from './locales.ts';
import { refuseUnsafeLinks } from './linkParams.ts';
import { BADGE_MAX, COLLAPSE_KEY, COLLAPSE_KEY_RULE, EMAIL_SUBJECT_MAX_CHARS, HEADER_TEXT_RULE, isHeaderText, isPushLink, PUSH_LINK_RULE, pushPayloadProblem, smsBodyLengthProblem } from '../domain/contentLimits.ts';

export { TemplateRenderError, type TemplateErrorCode } from './engine.ts';

/** The rendered text, or template_parameter_invalid when a parameter put half of a character in it (see recipientText in http/contentSchemas.ts). */
function wellFormed(text: string, field: string, locale: string): string {
  if (text.isWellFormed()) return text;
  throw new TemplateRenderError('template_parameter_invalid', field, 'rendered with these parameters, it holds an unpaired surrogate (half of an emoji), which is not valid Unicode and would reach the recipient as �; send whole characters', locale);
}

/** A rendered badge: a whole number the providers take, or template_parameter_invalid. */
function badgeOf(text: string, locale: string): number {
  const n = /^\s*\d{1,5}\s*$/.test(text) ? Number(text) : NaN;
  if (n <= BADGE_MAX) return n;
  throw new TemplateRenderError('template_parameter_invalid', 'push.badge', `rendered with these parameters, the badge is ${JSON.stringify(text.slice(0, 40))}, not a whole number from 0 to ${BADGE_MAX}`, locale);
}

/** A rendered push field the provider takes only when `ok` says so, or template_parameter_invalid naming `rule`. */
function acceptable(text: string, ok: (text: string) => boolean, field: string, rule: string, locale: string): string {
  if (ok(text)) return text;
  throw new TemplateRenderError('template_parameter_invalid', field, `rendered with these parameters, it is not ${rule}`, locale);
}

/** The rendered text, or template_parameter_invalid when the parameters made it empty or longer than `who` takes. */
function within(text: string, max: number, field: string, who: string, locale: string): string {
  if (text.length === 0) throw new TemplateRenderError('template_parameter_invalid', field, `rendered with these parameters, it is empty, which ${who} refuses`, locale);
  if (text.length <= max) return text;
  throw new TemplateRenderError('template_parameter_invalid', field, `rendered with these parameters, it is ${text.length} characters, over the ${max} ${who} takes`, locale);
}

/** A rendered SMS body, or template_parameter_invalid when the parameters made it empty or longer than Twilio takes. */
function smsBody(text: string, locale: string): string {
  const problem = text.length === 0 ? 'it is empty, which Twilio refuses' : smsBodyLengthProblem(text);
  if (problem) throw new TemplateRenderError('template_parameter_invalid', 'sms.body', `rendered with these parameters, ${problem}`, locale);
  return text;
}

/**
 * An email's rendered bodies: SendGrid refuses an empty one, so a part a condition left empty is
 * left out (the other carries the email); both empty is template_parameter_invalid.
 */
function bodies(html: string | undefined, text: string | undefined, locale: string): { html?: string; text?: string } {
  const out = { ...(html ? { html } : {}), ...(text ? { text } : {}) };
  if (out.html === undefined && out.text === undefined) throw new TemplateRenderError('template_parameter_invalid', 'email', 'rendered with these parameters, both the html and the text are empty, which SendGrid refuses', locale);
  return out;
}

/** A template's content once rendered: its push is always one the device shows. */
export type RenderedContent = Omit<ChannelContent, 'push'> & { push?: AlertPush };

/**
 * Renders every channel the template has, in the recipient's locale. Throws TemplateRenderError
 * naming the part (e.g. 'email.subject') and the parameter: `template_parameter_missing`, or
 * `template_parameter_invalid` for an object or a list printed as text.
 */
export function renderTemplate(version: TemplateVersion, locale: string | null, given: Record<string, unknown>, channels: readonly Channel[] = CHANNELS): RenderedContent {
  const params = guardedParams(given);
  const out: RenderedContent = {};
  for (const channel of CHANNELS) {
    // Only what will be sent: a part of another channel (its missing parameter, its size) must
    // not refuse the send.
    if (!channels.includes(channel)) continue;
    const key = resolveLocale(version, locale, channel);
    const parts = key ? version.locales[key] : undefined;
    if (!key || !parts) continue;
    const r = (field: string, source: string) => wellFormed(renderPart(version, key, { field, source }, params), field, key);
    const linked = (rendered: string, source: string) => {
      refuseUnsafeLinks(rendered, given, (other) => renderPart(version, key, { field: 'email.html', source }, guardedParams(other)), key);
      return rendered;
    };
    if (channel === 'push' && parts.push) {
      const { title, body, data, sound, badge, collapseKey, link } = parts.push;
      out.push = {
        title: r('push.title', title),
        body: r('push.body', body),
        ...(data ? { data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, r(`push.data.${k}`, v)])) } : {}),
        ...(sound !== undefined ? { sound } : {}),
        ...(badge !== undefined ? { badge: typeof badge === 'number' ? badge : badgeOf(r('push.badge', badge), key) } : {}),
        ...(collapseKey !== undefined ? { collapseKey: acceptable(r('push.collapseKey', collapseKey), (t) => COLLAPSE_KEY.test(t), 'push.collapseKey', COLLAPSE_KEY_RULE, key) } : {}),
        ...(link !== undefined ? { link: acceptable(r('push.link', link), isPushLink, 'push.link', PUSH_LINK_RULE, key) } : {}),
      };
      // The parameters decide the size: a push too large for the providers is refused here, not after the 202.
      const tooLarge = pushPayloadProblem(out.push);
      if (tooLarge) throw new TemplateRenderError('template_parameter_invalid', 'push', `rendered with these parameters, ${tooLarge}`, key);
    }
    if (channel === 'sms' && parts.sms) out.sms = { body: smsBody(r('sms.body', parts.sms.body), key) };
    if (channel === 'email' && parts.email) {
      const { subject, html, text } = parts.email;
      const renderedSubject = acceptable(within(r('email.subject', subject), EMAIL_SUBJECT_MAX_CHARS, 'email.subject', 'a mail header line', key), isHeaderText, 'email.subject', HEADER_TEXT_RULE, key);
      out.email = { subject: renderedSubject, ...bodies(html === undefined ? undefined : linked(r('email.html', html), html), text === undefined ? undefined : r('email.text', text), key) };
    }
  }
  return out;
}
