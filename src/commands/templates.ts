import type { EventStore } from '../ports/eventStore.ts';
import {
  decideTemplate,
  evolveTemplate,
  initialTemplateState,
  templateStream,
  templateVersion,
  type TemplateCommand,
  type TemplateDefinition,
  type TemplateEvent,
  type TemplateState,
  type TemplateVersion,
} from '../domain/template.ts';
import { prepareDefinition } from '../templates/validate.ts';
import { handle, load, type Aggregate } from './handle.ts';

export const templateAggregate: Aggregate<TemplateState, TemplateCommand, TemplateEvent> = {
  initial: initialTemplateState,
  evolve: evolveTemplate,
  decide: decideTemplate,
};

export interface TemplatesContext {
  store: EventStore;
  now: () => Date;
  metadata?: Record<string, unknown>;
}

export interface TemplateWritten {
  template: TemplateVersion;
  /** Every version number, oldest first. */
  versions: number[];
  /** False when a PUT repeated the latest definition and no version was added. */
  changed: boolean;
}

/**
 * Create (POST) or add a version (PUT). The definition is checked and its locale tags made
 * canonical first, so the events only ever hold templates that compile.
 * Throws TemplateExistsError (create only) and TemplateRenderError (template_invalid).
 */
async function writeTemplate(ctx: TemplatesContext, kind: 'create' | 'addVersion', templateId: string, definition: TemplateDefinition): Promise<TemplateWritten> {
  const prepared = prepareDefinition(definition);
  const command: TemplateCommand = { type: kind === 'create' ? 'CreateTemplate' : 'AddTemplateVersion', data: { templateId, ...prepared } };
  const { events, state } = await handle(ctx.store, templateStream(templateId), templateAggregate, command, ctx);
  return { template: templateVersion(state)!, versions: state.versions.map((v) => v.version), changed: events.length > 0 };
}

export const createTemplate = (ctx: TemplatesContext, templateId: string, definition: TemplateDefinition) => writeTemplate(ctx, 'create', templateId, definition);

/** PUT semantics: adds a version, creating the template when it does not exist yet. */
export const addTemplateVersion = (ctx: TemplatesContext, templateId: string, definition: TemplateDefinition) => writeTemplate(ctx, 'addVersion', templateId, definition);

export async function loadTemplateState(store: EventStore, templateId: string): Promise<TemplateState> {
  return (await load(store, templateStream(templateId), templateAggregate)).state;
}

/** The latest version, or the given one; null when the template or that version does not exist. */
export async function loadTemplate(store: EventStore, templateId: string, version?: number): Promise<TemplateVersion | null> {
  return templateVersion(await loadTemplateState(store, templateId), version);
}
