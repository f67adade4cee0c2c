import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { addTemplateVersion, createTemplate, loadTemplateState, type TemplateWritten } from '../../commands/templates.ts';
import { TemplateExistsError, templateVersion, type TemplateVersion } from '../../domain/template.ts';
import { renderTemplate, TemplateRenderError } from '../../templates/render.ts';
import { resolveLocale } from '../../templates/locales.ts';
import { listParameters, missingParameters } from '../../templates/parameterChecks.ts';
import { CHANNELS } from '../../domain/channels.ts';
import type { AppDeps } from '../deps.ts';
import { queryInt, queryParams } from '../query.ts';
import { Problem } from '../problem.ts';
import { renderProblem } from '../sendErrors.ts';
import { templateId, templateParams } from '../schemas.ts';
import { pushSound, recipientText, reservedDataKeys } from '../contentSchemas.ts';
import { userLocale } from '../userSchemas.ts';
import { listPage, listQuery, nextCursorField } from '../paging.ts';
import { templateCatalog, type TemplateSummaryDoc } from '../../projections/catalog.ts';
import { BADGE_MAX } from '../../domain/contentLimits.ts';
import { smsLength } from '../../domain/smsLength.ts';

const localeTag = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'a BCP 47 language tag, e.g. en or ko-KR');
// Sources, not rendered text: limits leave room for {{parameters}} and the markup around them.
const localeParts = z
  .strictObject({
    push: z.strictObject({
      title: recipientText().min(1).max(1024),
      body: recipientText().max(8192),
      data: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'data keys: 1-64 letters, digits or . _ -'), recipientText().max(4096)).optional(),
      sound: pushSound,
      badge: z.union([z.number().int().min(0).max(BADGE_MAX), z.string().min(1).max(256)]).optional().describe('a number, or a source that renders one, e.g. "{{unread}}"'),
      collapseKey: recipientText().min(1).max(256).optional().describe('a source, e.g. "chat-{{threadId}}"; rendered, 1-64 visible ASCII characters'),
      link: recipientText().min(1).max(4096).optional().describe('a source, e.g. "https://shop.example/orders/{{order.id}}"; rendered, an https URL'),
    }).superRefine((push, ctx) => reservedDataKeys(push.data, ctx)).optional(),
    sms: z.strictObject({ body: recipientText().min(1).max(4096) }).optional(),
    email: z
      .strictObject({ subject: recipientText().min(1).max(2048), text: recipientText().max(1_000_000).optional(), html: recipientText().max(1_000_000).optional() })
      .refine((e) => e.text !== undefined || e.html !== undefined, 'an email needs text, html or both')
      .optional(),
  })
  .refine((p) => p.push || p.sms || p.email, 'give at least one of push, sms or email');

const templateBody = z
  .strictObject({
    defaultLocale: localeTag.describe('the locale a recipient gets when none of theirs matches'),
    locales: z.record(localeTag, localeParts).describe('parts per BCP 47 tag; every string is a Handlebars source'),
  })
  .superRefine((body, ctx) => {
    const tags = Object.keys(body.locales).map((t) => t.toLowerCase());
    if (tags.length > 100) ctx.addIssue({ code: 'custom', path: ['locales'], message: 'at most 100 locales' });
    if (!tags.includes(body.defaultLocale.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['defaultLocale'], message: `${body.defaultLocale} must be one of the locales` });
  });

const partsView = z.object({
  push: z.object({ title: z.string(), body: z.string(), data: z.record(z.string(), z.string()).optional(), sound: z.string().nullable().optional(), badge: z.union([z.number(), z.string()]).optional(), collapseKey: z.string().optional(), link: z.string().optional() }).optional(),
  sms: z.object({ body: z.string() }).optional(),
  email: z.object({ subject: z.string(), text: z.string().optional(), html: z.string().optional() }).optional(),
});
const templateView = z.object({
  id: z.string(),
  version: z.number().int(),
  versions: z.array(z.number().int()).describe('every version, oldest first'),
  defaultLocale: z.string(),
  locales: z.record(z.string(), partsView),
  parameters: z.array(z.string()).describe('every parameter any part mentions'),
  requiredParameters: z.array(z.string()).describe('those a send must always give (others appear only inside {{#if}} or {{#each}})'),
  createdAt: z.string().describe('when this version was added'),
});

const view = (template: TemplateVersion, versions: number[]) => ({
  id: template.templateId,
  version: template.version,
  versions,
  defaultLocale: template.defaultLocale,
  locales: template.locales,
  parameters: listParameters(template),
  requiredParameters: [...new Set(missingParameters(template, {}).map((m) => m.name))].sort(),
  createdAt: template.createdAt,
});

const written = (w: TemplateWritten) => view(w.template, w.versions);

const templateSummary = z.object({ templateId: z.string(), latestVersion: z.number(), defaultLocale: z.string(), locales: z.array(z.string()), channels: z.array(z.string()), createdAt: z.string(), updatedAt: z.string() });

const previewBody = z.strictObject({
  params: templateParams.default({}).describe('values for the template\'s {{parameters}}, as a send would give them'),
  locale: userLocale.nullable().default(null).describe('the recipient\'s locale, as a user\'s is given (null: unknown, the default locale)'),
  version: z.number().int().min(1).optional().describe('absent: the latest version'),
});
const previewView = z.object({
  id: z.string(),
  version: z.number().int(),
  locales: z.record(z.string(), z.string()).describe('the template locale each channel rendered from (fallback is per channel)'),
  content: partsView.describe('what a recipient with this locale would be sent, per channel'),
  smsLength: z.object({
    encoding: z.enum(['GSM-7', 'UCS-2']),
    characters: z.number().int().describe('GSM-7: septets, each of € [ ] { } ~ ^ | \\ and form feed counting two; UCS-2: UTF-16 code units, an emoji counting two'),
    segments: z.number().int().describe('the parts Twilio sends and bills: 160 / 153 per part in GSM-7, 70 / 67 in UCS-2'),
  }).optional().describe('content.sms.body as Twilio counts and bills it'),
});

function asProblem(error: unknown): never {
  if (error instanceof TemplateExistsError) throw new Problem(409, error.code, 'Template exists', error.message);
  if (error instanceof TemplateRenderError) {
    throw new Problem(422, error.code, 'The template is not valid', error.message, { field: error.field, ...(error.locale ? { locale: error.locale } : {}) });
  }
  throw error;
}

/**
 * Templates with immutable versions: POST creates version 1, PUT adds the next one, GET reads
 * the latest or a given version. Scopes: reads need read, writes need send (see scopes.ts).
 */
export function templatesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const ctx = (req: { appId: string; id: string }) => ({ store: deps.events, now: deps.now, metadata: { appId: req.appId, requestId: req.id } });
  const params = z.object({ templateId });
  /** The version asked for (absent: the latest) and every version's number, or a 404 naming what is missing. */
  const found = async (id: string, version: number | undefined) => {
    const state = await loadTemplateState(deps.events, id);
    if (!state.exists) throw new Problem(404, 'template_not_found', 'Template not found', `no template ${id}; create it with POST /v1/templates/${id}`);
    const template = templateVersion(state, version);
    if (!template) throw new Problem(404, 'template_version_not_found', 'Template version not found', `template ${id} has versions ${state.versions.map((v) => v.version).join(', ')}`);
    return { template, versions: state.versions.map((v) => v.version) };
  };

  return async (app) => {
    app.post('/v1/templates/:templateId', {
      schema: { tags: ['templates'], summary: 'Create a template (version 1); 409 when it exists', params, body: templateBody, response: { 201: templateView } },
    }, async (req, reply) => {
      const w = await createTemplate(ctx(req), req.params.templateId, req.body).catch(asProblem);
      return reply.status(201).header('location', `/v1/templates/${req.params.templateId}`).send(written(w));
    });

    app.put('/v1/templates/:templateId', {
      schema: {
        tags: ['templates'],
        summary: 'Add a version (201 when this creates the template); the same definition as the latest adds nothing',
        params,
        body: templateBody,
        response: { 200: templateView, 201: templateView },
      },
    }, async (req, reply) => {
      const w = await addTemplateVersion(ctx(req), req.params.templateId, req.body).catch(asProblem);
      return reply.status(w.changed && w.template.version === 1 ? 201 : 200).send(written(w));
    });

    app.post('/v1/templates/:templateId/preview', {
      schema: {
        tags: ['templates'],
        summary: 'Render a template with parameters for a locale, as a send would, without sending anything',
        params,
        body: previewBody,
        response: { 200: previewView },
      },
    }, async (req) => {
      const { templateId: id } = req.params;
      const { template } = await found(id, req.body.version);
      try {
        const content = renderTemplate(template, req.body.locale, req.body.params);
        const locales = Object.fromEntries(CHANNELS.flatMap((c) => (content[c] ? [[c, resolveLocale(template, req.body.locale, c)!]] : [])));
        return { id, version: template.version, locales, content, ...(content.sms ? { smsLength: smsLength(content.sms.body) } : {}) };
      } catch (error) {
        throw error instanceof TemplateRenderError ? renderProblem(error, '/params') : error;
      }
    });

    app.get('/v1/templates', {
      schema: { tags: ['templates'], summary: 'Every template, by id: its latest version, locales and channels', querystring: listQuery, response: { 200: z.object({ templates: z.array(templateSummary), nextCursor: nextCursorField }) } },
    }, async (req) => {
      const { docs, nextCursor } = await listPage(deps.readModels, templateCatalog.collection.name, 'templateId', req.query.limit, req.query.cursor);
      return { templates: docs.map((d) => d.doc as TemplateSummaryDoc), nextCursor };
    });

    app.get('/v1/templates/:templateId', {
      schema: {
        tags: ['templates'],
        summary: 'The latest version of a template, or the one ?version= names',
        params,
        querystring: queryParams({ version: queryInt(1, Number.MAX_SAFE_INTEGER).optional() }),
        response: { 200: templateView },
      },
    }, async (req) => {
      const { template, versions } = await found(req.params.templateId, req.query.version);
      return view(template, versions);
    });
  };
}
