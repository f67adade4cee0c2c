/**
 * The template aggregate: one stream per template, holding every version ever published. Versions
 * are immutable, so a notification that names (template, version) renders the same text forever;
 * a change is a new version. Pure: decide and evolve. Whether the Handlebars sources compile is
 * checked before a command gets here (src/templates/validate.ts): that needs the engine, which the
 * domain stays free of.
 */
import type { ChannelContent } from './channels.ts';
import type { AlertPush } from '../ports/deliveryProvider.ts';
import { exhaustive } from './exhaustive.ts';

export const templateStream = (templateId: string) => `template-${templateId}`;

/**
 * A template's push: the inline push's shape, its strings Handlebars sources (the sound excepted:
 * a file name). The badge is a number, or a source that renders one ("{{unread}}"). A template's
 * push is always shown: a silent push (no text to localise) is sent inline.
 */
export type TemplatePushParts = Omit<AlertPush, 'badge' | 'silent'> & { badge?: number | string };

/**
 * One locale's parts: the same shape as inline content, but every string (push title, body, data
 * values, collapse key and badge; sms body; email subject, html and text) is a Handlebars source.
 */
export type LocaleParts = Omit<ChannelContent, 'push'> & { push?: TemplatePushParts };

/** What a create or a PUT gives: locales keyed by canonical BCP 47 tag, one of them the default. */
export interface TemplateDefinition {
  defaultLocale: string;
  locales: Record<string, LocaleParts>;
}

export interface TemplateVersion extends TemplateDefinition {
  templateId: string;
  /** 1, 2, …: the first version is 1. */
  version: number;
  createdAt: string;
}

type VersionData = { templateId: string; version: number } & TemplateDefinition & { at: string };

export type TemplateEvent =
  | { type: 'TemplateCreated'; data: VersionData }
  | { type: 'TemplateVersionAdded'; data: VersionData };

export type TemplateCommand =
  | { type: 'CreateTemplate'; data: { templateId: string } & TemplateDefinition }
  /** PUT semantics: adds a version, or creates the template when it does not exist yet. */
  | { type: 'AddTemplateVersion'; data: { templateId: string } & TemplateDefinition };

export interface TemplateState {
  exists: boolean;
  /** Oldest first; `versions[n - 1].version === n`. */
  versions: TemplateVersion[];
}

export const initialTemplateState = (): TemplateState => ({ exists: false, versions: [] });

export class TemplateExistsError extends Error {
  readonly code = 'template_exists';
  constructor(readonly templateId: string) {
    super(`template ${templateId} already exists; add a version with PUT /v1/templates/${templateId}`);
  }
}

export function evolveTemplate(state: TemplateState, event: TemplateEvent): TemplateState {
  switch (event.type) {
    case 'TemplateCreated':
    case 'TemplateVersionAdded': {
      const { templateId, version, defaultLocale, locales, at } = event.data;
      return { exists: true, versions: [...state.versions, { templateId, version, defaultLocale, locales, createdAt: at }] };
    }
    default:
      return exhaustive(event);
  }
}

export function decideTemplate(command: TemplateCommand, state: TemplateState, now: string): TemplateEvent[] {
  const { templateId, defaultLocale, locales } = command.data;
  switch (command.type) {
    case 'CreateTemplate':
      if (state.exists) throw new TemplateExistsError(templateId);
      return [{ type: 'TemplateCreated', data: { templateId, version: 1, defaultLocale, locales, at: now } }];
    case 'AddTemplateVersion': {
      if (!state.exists) return [{ type: 'TemplateCreated', data: { templateId, version: 1, defaultLocale, locales, at: now } }];
      const latest = state.versions.at(-1);
      // A retried PUT must not mint a version per retry: the same definition again is a no-op.
      if (latest && sameDefinition(latest, { defaultLocale, locales })) return [];
      return [{ type: 'TemplateVersionAdded', data: { templateId, version: (latest?.version ?? 0) + 1, defaultLocale, locales, at: now } }];
    }
    default:
      return exhaustive(command);
  }
}

/** The latest version, or the given one; null when the template or that version does not exist. */
export function templateVersion(state: TemplateState, version?: number): TemplateVersion | null {
  if (version === undefined) return state.versions.at(-1) ?? null;
  return state.versions.find((v) => v.version === version) ?? null;
}

/** Key order is not meaning: two definitions are the same when their canonical JSON is. */
function sameDefinition(a: TemplateDefinition, b: TemplateDefinition): boolean {
  return canonical({ defaultLocale: a.defaultLocale, locales: a.locales }) === canonical({ defaultLocale: b.defaultLocale, locales: b.locales });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
