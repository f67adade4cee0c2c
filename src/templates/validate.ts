/**
 * The gate before a definition becomes an event: canonical locale tags, a default that exists,
 * and every part compiling. A template that reaches the store can always be rendered given its
 * parameters, so a bad one is a 422 when it is written, never a failed delivery later.
 */
import type { TemplateDefinition, LocaleParts } from '../domain/template.ts';
import { checkSource, partsOf, TemplateRenderError } from './engine.ts';

/** 'ko-kr' → 'ko-KR'; null for a tag that is not well-formed BCP 47. */
export function canonicalLocale(tag: string): string | null {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

/** Returns the definition with canonical locale tags; throws TemplateRenderError (template_invalid). */
export function prepareDefinition(input: TemplateDefinition): TemplateDefinition {
  const locales: Record<string, LocaleParts> = {};
  for (const [tag, parts] of Object.entries(input.locales)) {
    const canonical = canonicalLocale(tag);
    if (!canonical) throw new TemplateRenderError('template_invalid', 'locales', `"${tag}" is not a BCP 47 language tag, e.g. en or ko-KR`);
    if (Object.hasOwn(locales, canonical)) throw new TemplateRenderError('template_invalid', 'locales', `"${tag}" and another key are the same locale ${canonical}`);
    locales[canonical] = parts;
  }
  const defaultLocale = canonicalLocale(input.defaultLocale);
  if (!defaultLocale || !Object.hasOwn(locales, defaultLocale)) {
    throw new TemplateRenderError('template_invalid', 'defaultLocale', `the default locale ${input.defaultLocale} must be one of the locales (${Object.keys(locales).join(', ') || 'none given'})`);
  }
  for (const [locale, parts] of Object.entries(locales)) {
    if (!parts.push && !parts.sms && !parts.email) throw new TemplateRenderError('template_invalid', `locales.${locale}`, 'give at least one of push, sms or email');
    if (parts.email && parts.email.html === undefined && parts.email.text === undefined) throw new TemplateRenderError('template_invalid', 'email', 'an email needs text, html or both', locale);
    for (const part of partsOf(parts)) checkSource(part.field, part.source, locale);
  }
  return { defaultLocale, locales };
}
