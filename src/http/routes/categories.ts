import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { configureCategory, loadCategory } from '../../commands/categories.ts';
import type { AppDeps } from '../deps.ts';
import { categoryName } from '../schemas.ts';
import { listPage, listQuery, nextCursorField } from '../paging.ts';
import { categoryCatalog, type CategoryDoc } from '../../projections/catalog.ts';

const name = categoryName;
const rateLimit = z.strictObject({
  max: z.number().int().min(1).max(1_000_000),
  windowSeconds: z.number().int().min(1).max(31 * 24 * 3600),
  window: z.enum(['fixed', 'sliding']).default('sliding'),
  overLimit: z.enum(['suppress', 'defer']).default('suppress'),
  appliesToTransactional: z.boolean().default(false),
});
const body = z.strictObject({ transactional: z.boolean().default(false), marketing: z.boolean().default(false), rateLimit: rateLimit.nullable().default(null) });
const policy = body.extend({ category: z.string() });

/** Categories: transactional or marketing, and their rate limit per user. Reading needs read, configuring admin (scopes.ts). */
export function categoriesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/categories', {
      schema: { tags: ['categories'], summary: 'Every configured category, by name (one never configured has the defaults)', querystring: listQuery, response: { 200: z.object({ categories: z.array(policy.extend({ updatedAt: z.string() })), nextCursor: nextCursorField }) } },
    }, async (req) => {
      const { docs, nextCursor } = await listPage(deps.readModels, categoryCatalog.collection.name, 'category', req.query.limit, req.query.cursor);
      return { categories: docs.map((d) => d.doc as CategoryDoc), nextCursor };
    });

    app.get('/v1/categories/:category', {
      schema: { tags: ['categories'], summary: 'How a category is treated (defaults when never configured)', params: z.object({ category: name }), response: { 200: policy } },
    }, async (req) => loadCategory(deps.events, req.params.category));

    app.put('/v1/categories/:category', {
      schema: { tags: ['categories'], summary: 'Configure a category: transactional, marketing, rate limit per user', params: z.object({ category: name }), body, response: { 200: policy } },
    }, async (req) => configureCategory({ store: deps.events, now: deps.now, metadata: { appId: req.appId } }, { category: req.params.category, ...req.body }));
  };
}
