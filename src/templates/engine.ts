/**
 * The one file that imports Handlebars. Why Handlebars: it is maintained, has no dependencies at
 * runtime, compiles to plain functions (fast per send), and is logic-less enough that a template
 * cannot run code: only the built-in if / unless / each / with / lookup helpers exist here, no
 * partials, no custom helpers, and prototype properties are off (Handlebars' default since 4.6).
 * `strict` makes a missing parameter throw instead of silently rendering an empty string.
 */
import Handlebars from 'handlebars';
import type { LocaleParts, TemplateVersion } from '../domain/template.ts';
import { analyseProgram, type Analysis } from './parameters.ts';

export type TemplateErrorCode = 'template_parameter_missing' | 'template_parameter_invalid' | 'template_invalid';

/** A template that cannot be stored (invalid) or cannot be rendered with the given parameters. */
export class TemplateRenderError extends Error {
  constructor(
    readonly code: TemplateErrorCode,
    /** The part, e.g. 'email.subject' or 'push.data.orderId'; 'defaultLocale' or 'locales' for the definition itself. */
    readonly field: string,
    readonly detail: string,
    /** The template locale whose part failed, when one did. */
    readonly locale?: string,
    /** The path of the parameter at fault, when one is: ['order', 'url']. */
    readonly parameter?: readonly string[],
  ) {
    super(`${locale ? `locales.${locale}.` : ''}${field}: ${detail}`);
    this.name = 'TemplateRenderError';
  }
}

const hb = Handlebars.create();
// `log` writes to the console from inside a template; nothing a message needs.
hb.unregisterHelper('log');

const COMPILE_OPTIONS = {
  strict: true,
  knownHelpers: { log: false, helperMissing: false, blockHelperMissing: false },
  // An unknown helper such as {{formatDate x}} is then a compile error, caught when the template is created.
  knownHelpersOnly: true,
} as const;

export interface Part {
  field: string;
  source: string;
}

/** Every Handlebars source of one locale, named by field ('push.data.<key>' for each data value). */
export function partsOf(parts: LocaleParts): Part[] {
  const out: Part[] = [];
  const add = (field: string, source: string | undefined) => {
    if (source !== undefined) out.push({ field, source });
  };
  if (parts.push) {
    add('push.title', parts.push.title);
    add('push.body', parts.push.body);
    for (const [key, value] of Object.entries(parts.push.data ?? {})) add(`push.data.${key}`, value);
    add('push.collapseKey', parts.push.collapseKey);
    add('push.link', parts.push.link);
    if (typeof parts.push.badge === 'string') add('push.badge', parts.push.badge);
  }
  add('sms.body', parts.sms?.body);
  add('email.subject', parts.email?.subject);
  add('email.html', parts.email?.html);
  add('email.text', parts.email?.text);
  return out;
}

/** Only email html is a markup context; escaping push, SMS or a subject would show `&amp;` to people. */
export const escapes = (field: string) => field === 'email.html';

/** Parses and compiles now (Handlebars.compile is lazy), so a broken part fails at creation. */
export function checkSource(field: string, source: string, locale?: string): Analysis {
  try {
    hb.precompile(source, { ...COMPILE_OPTIONS, noEscape: !escapes(field) });
    return analyseProgram(hb.parse(source));
  } catch (error) {
    throw new TemplateRenderError('template_invalid', field, describe(error), locale);
  }
}

interface Entry {
  source: string;
  render?: HandlebarsTemplateDelegate;
  analysis?: Analysis;
}

/** Bounded: least recently used entries go first once the map is full. */
const MAX_ENTRIES = 2000;
const cache = new Map<string, Entry>();

/**
 * Compiled parts, per (templateId, version, locale, part). Versions are immutable within a store,
 * but one process may serve several stores (tests, a replay tool) whose ids collide, so an entry
 * is only used when its source is the same text.
 */
function entry(version: TemplateVersion, locale: string, part: Part): Entry {
  const key = `${version.templateId}\u0000${version.version}\u0000${locale}\u0000${part.field}`;
  let found = cache.get(key);
  if (found && found.source !== part.source) found = undefined;
  if (found) cache.delete(key);
  else found = { source: part.source };
  cache.set(key, found);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  return found;
}

/** What an object or a list turns into when made into text, found in the output afterwards. */
const PRINTED = /\uE000herald:(object|list):([^\uE000]*)\uE000/;

/** The request's parameters object → its guarded copy; neither is changed once made. */
const guardedCopies = new WeakMap<Record<string, unknown>, Record<string, unknown>>();
/** A guarded copy → the names of the fields left out of it for being null, to say so in the error. */
const nullNames = new WeakMap<Record<string, unknown>, ReadonlySet<string>>();

/**
 * A copy of the parameters in which every object and list, made into text, becomes a marker
 * naming its path. Handlebars prints any value with String(value): an object passed where a
 * template prints a string would otherwise send "Hi [object Object]". renderPart refuses output
 * with a marker. Reading fields, {{#each}} and {{#if}} are unchanged (the added toString is not
 * enumerable); a marker, not a throw, because Handlebars' own error messages print objects too.
 * A field that is null is left out, so it is missing: strict mode refuses it where it is printed
 * (Handlebars would print an empty gap), and {{#if}}, {{#each}} and {{#with}} read it as before.
 */
export function guardedParams(params: Record<string, unknown>): Record<string, unknown> {
  // A send renders the same parameters once per recipient: copied once per request, not per recipient.
  let copy = guardedCopies.get(params);
  if (!copy) guardedCopies.set(params, (copy = guardedCopy(params)));
  return copy;
}

function guardedCopy(params: Record<string, unknown>): Record<string, unknown> {
  const nulls = new Set<string>();
  const guard = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const list = Array.isArray(value);
    const copy: Record<string, unknown> | unknown[] = list
      ? value.map((v, i) => guard(v, `${path}.${i}`))
      : Object.fromEntries(Object.entries(value).flatMap(([k, v]) => {
        if (v !== null) return [[k, guard(v, path ? `${path}.${k}` : k)]];
        nulls.add(k);
        return [];
      }));
    // Delimited by a private-use character, which no text a person reads carries.
    const marker = `\uE000herald:${list ? 'list' : 'object'}:${path}\uE000`;
    if (path) Object.defineProperty(copy, 'toString', { enumerable: false, value: () => marker });
    return copy;
  };
  const copy = guard(params, '') as Record<string, unknown>;
  nullNames.set(copy, nulls);
  return copy;
}

/** Renders one part with parameters from guardedParams (an object printed as text is refused). */
export function renderPart(version: TemplateVersion, locale: string, part: Part, params: Record<string, unknown>): string {
  const e = entry(version, locale, part);
  let out: string;
  try {
    e.render ??= hb.compile(part.source, { ...COMPILE_OPTIONS, noEscape: !escapes(part.field) });
    out = e.render(params);
  } catch (error) {
    const missing = /^"([^"]+)" not defined/.exec(describe(error));
    if (missing) {
      const given = nullNames.get(params)?.has(missing[1]!) ? ' (null, which counts as missing: give it a value, or print it inside {{#if}})' : '';
      throw new TemplateRenderError('template_parameter_missing', part.field, `missing parameter "${missing[1]}"${given}`, locale);
    }
    // A block or lookup reading a property (`{{#if order.paid}}`) of an object that was not passed.
    const through = /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)/.exec(describe(error));
    if (through) throw new TemplateRenderError('template_parameter_missing', part.field, `missing parameter: no object to read "${through[1]}" from`, locale);
    throw new TemplateRenderError('template_invalid', part.field, describe(error), locale);
  }
  const printed = out.includes('\uE000') ? PRINTED.exec(out) : null;
  if (printed) {
    const [, kind, path] = printed;
    const hint = kind === 'list' ? `print its items with {{#each ${path}}}…{{/each}}` : `print one of its fields, e.g. {{${path}.<field>}}`;
    throw new TemplateRenderError('template_parameter_invalid', part.field, `parameter "${path}" is ${kind === 'list' ? 'a list' : 'an object'}, which cannot be printed as text: pass a string or a number, or ${hint}`, locale);
  }
  return out;
}

export function analysisOf(version: TemplateVersion, locale: string, part: Part): Analysis {
  const e = entry(version, locale, part);
  try {
    e.analysis ??= analyseProgram(hb.parse(part.source));
    return e.analysis;
  } catch (error) {
    throw new TemplateRenderError('template_invalid', part.field, describe(error), locale);
  }
}

/** Handlebars messages span lines (source excerpt, caret, the long list of expected tokens); one line is enough. */
function describe(error: unknown): string {
  // Blocks within blocks a few thousand deep overflow the parser's stack.
  if (error instanceof RangeError && /call stack/.test(error.message)) return 'nested too deeply (blocks or subexpressions within each other some thousands of levels): flatten it';
  const lines = (error instanceof Error ? error.message : String(error)).split('\n');
  const got = /got '([^']+)'/.exec(lines.at(-1) ?? '');
  const text = lines.length > 1 ? `${lines[0]!.replace(/:$/, '')} at "${lines[1]}"${got ? ` (unexpected ${got[1]})` : ''}` : lines[0]!;
  return text
    .replace(/ in (?:\[object Object\]|\uE000herald:[^\uE000]*\uE000)/, '')
    .replace(/^You specified knownHelpersOnly, but used the unknown helper (\S+) - (\d+):(\d+)$/, 'unknown helper $1 at line $2, column $3: only if, unless, each, with and lookup exist');
}
