/**
 * A parameter may not put a script URL into a link of an email's HTML (`href="{{url}}"` given
 * `javascript:…`): that is markup injection by a recipient's data, which HTML escaping does not
 * stop, since a URL needs none of the characters it escapes. What the template itself writes is
 * its author's, and left alone, as it always was.
 */
import { decodeHTMLAttribute } from 'entities';
import { TemplateRenderError } from './engine.ts';
import { unsafeUrls } from './unsafeUrls.ts';

type Path = readonly string[];

const SCHEMES = ['javascript:', 'vbscript:', 'data:'] as const;

/** The scheme text `value` holds as a browser would read it (references decoded, tabs and line breaks dropped), if any. */
function schemeIn(value: string): (typeof SCHEMES)[number] | undefined {
  const read = decodeHTMLAttribute(value).replace(/[\t\n\r]/g, '').toLowerCase();
  return SCHEMES.find((s) => read.includes(s));
}

const suspectsCache = new WeakMap<Record<string, unknown>, Path[]>();

/** The string parameters that hold such a scheme: the only ones that can make a link unsafe. Found once per request. */
function suspectsOf(params: Record<string, unknown>): Path[] {
  const cached = suspectsCache.get(params);
  if (cached) return cached;
  const found: Path[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'string') {
      if (schemeIn(value)) found.push(path);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  walk(params, []);
  suspectsCache.set(params, found);
  return found;
}

/** A copy of `params` with the values at `paths` made harmless text (not empty: an {{#if}} on them reads the same). */
function without(params: Record<string, unknown>, paths: readonly Path[]): Record<string, unknown> {
  const swap = (value: unknown, at: Path): unknown => {
    if (paths.some((p) => p.length === at.length && p.every((k, i) => k === at[i]))) return 'x';
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v, i) => swap(v, [...at, String(i)]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swap(v, [...at, k])]));
  };
  return swap(params, []) as Record<string, unknown>;
}

/**
 * Throws template_parameter_invalid naming the parameter when `html` (rendered from `params` by
 * `render`) has more unsafe URLs than the same part rendered with the suspect parameters made
 * harmless. Costs nothing for parameters that hold no such scheme.
 */
export function refuseUnsafeLinks(html: string, params: Record<string, unknown>, render: (params: Record<string, unknown>) => string, locale: string): void {
  const suspects = suspectsOf(params);
  if (suspects.length === 0) return;
  const unsafe = unsafeUrls(html).length;
  if (unsafe === 0) return;
  const unsafeWith = (paths: readonly Path[]) => {
    try {
      return unsafeUrls(render(without(params, paths))).length;
    } catch {
      return 0; // renders only with that value: it is the parameter's doing
    }
  };
  if (unsafeWith(suspects) >= unsafe) return;
  const culprit = suspects.length === 1 ? suspects[0]! : (suspects.find((p) => unsafeWith([p]) < unsafe) ?? suspects[0]!);
  const value = culprit.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], params) as string;
  const name = culprit.join('.');
  throw new TemplateRenderError('template_parameter_invalid', 'email.html', `parameter "${name}" puts a ${schemeIn(value)} URL into a link or an image of the email, which could run script where it is opened; pass an http(s), mailto: or tel: URL`, locale, culprit);
}
