/**
 * What the send path checks up front, before anything is written: the parameters a template
 * version uses and those a request lacks for the locales its recipients resolve to.
 */
import { CHANNELS, type Channel } from '../domain/channels.ts';
import type { TemplateVersion } from '../domain/template.ts';
import { analysisOf, partsOf, TemplateRenderError } from './engine.ts';
import { hasPath } from './parameters.ts';
import { resolveLocale } from './locales.ts';

/** Every root-level parameter any locale and part of this version mentions, sorted ('order.id'). */
export function listParameters(version: TemplateVersion): string[] {
  const names = new Set<string>();
  for (const [locale, parts] of Object.entries(version.locales)) {
    for (const part of partsOf(parts)) for (const name of analysisOf(version, locale, part).names) names.add(name);
  }
  return [...names].sort();
}

export interface MissingParameter {
  name: string;
  /** The template locale and part that need it. */
  locale: string;
  field: string;
}

export interface ParameterCheckOptions {
  /** Recipients' locales (null: unknown); absent: every locale of the template. */
  locales?: readonly (string | null)[];
  /** Only these channels; absent: all. */
  channels?: readonly Channel[];
}

/**
 * The required parameters `params` lacks for the locales the recipients resolve to: what a send
 * can refuse with 422 before anything is written. Names used only inside {{#if}} / {{#each}} are
 * not required here; rendering still throws if such a branch runs without them.
 */
export function missingParameters(version: TemplateVersion, params: Record<string, unknown>, options: ParameterCheckOptions = {}): MissingParameter[] {
  const seen = new Map<string, MissingParameter>();
  const recipientLocales = options.locales ?? Object.keys(version.locales);
  for (const recipient of new Set(recipientLocales)) {
    for (const channel of options.channels ?? CHANNELS) {
      const locale = resolveLocale(version, recipient, channel);
      const channelParts = locale ? version.locales[locale]?.[channel] : undefined;
      if (!locale || !channelParts) continue;
      for (const part of partsOf({ [channel]: channelParts })) {
        for (const name of analysisOf(version, locale, part).required) {
          if (!hasPath(params, name)) seen.set(`${locale}\u0000${part.field}\u0000${name}`, { name, locale, field: part.field });
        }
      }
    }
  }
  return [...seen.values()];
}

/** missingParameters as an exception: the first gap, as the same error rendering would throw. */
export function checkParameters(version: TemplateVersion, params: Record<string, unknown>, options: ParameterCheckOptions = {}): void {
  const [first] = missingParameters(version, params, options);
  if (first) throw new TemplateRenderError('template_parameter_missing', first.field, `missing parameter "${first.name}"`, first.locale);
}
