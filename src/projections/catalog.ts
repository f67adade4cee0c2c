/**
 * The catalog read models: every template and every configured category, for the list routes
 * (GET /v1/templates, GET /v1/categories). Each is one stream per entity, so both are stream-local.
 */
import { CHANNELS } from '../domain/channels.ts';
import type { Recorded } from '../domain/events.ts';
import type { RateLimit } from '../domain/category.ts';
import type { Projection } from './projection.ts';

export type TemplateSummaryDoc = {
  templateId: string;
  latestVersion: number;
  defaultLocale: string;
  /** The latest version's locales and the channels any of them has. */
  locales: string[];
  channels: string[];
  createdAt: string;
  updatedAt: string;
};

export const templateCatalog: Projection<TemplateSummaryDoc> = {
  name: 'templates',
  version: 1,
  collection: { name: 'templates', indexes: ['templateId'] },
  eventTypes: ['TemplateCreated', 'TemplateVersionAdded'],
  keyOf: (event) => (event.type === 'TemplateCreated' || event.type === 'TemplateVersionAdded' ? event.data.templateId : null),
  evolve: (doc, event: Recorded) => {
    if (event.type !== 'TemplateCreated' && event.type !== 'TemplateVersionAdded') return doc;
    const d = event.data;
    const parts = Object.values(d.locales);
    return {
      templateId: d.templateId,
      latestVersion: d.version,
      defaultLocale: d.defaultLocale,
      locales: Object.keys(d.locales),
      channels: CHANNELS.filter((channel) => parts.some((p) => p[channel] !== undefined)),
      createdAt: doc?.createdAt ?? d.at,
      updatedAt: d.at,
    };
  },
  streamLocal: true,
};

export type CategoryDoc = { category: string; transactional: boolean; marketing: boolean; rateLimit: RateLimit | null; updatedAt: string };

export const categoryCatalog: Projection<CategoryDoc> = {
  name: 'categories',
  version: 1,
  collection: { name: 'categories', indexes: ['category'] },
  eventTypes: ['CategoryConfigured'],
  keyOf: (event) => (event.type === 'CategoryConfigured' ? event.data.category : null),
  evolve: (doc, event: Recorded) => {
    if (event.type !== 'CategoryConfigured') return doc;
    const { category, transactional, marketing, rateLimit, at } = event.data;
    return { category, transactional, marketing, rateLimit, updatedAt: at };
  },
  streamLocal: true,
};
