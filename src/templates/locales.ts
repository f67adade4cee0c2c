/**
 * Which of a template version's locales a recipient gets, per channel: the recipient's tag, the
 * script its region implies, its language, then the template's default (ko-KR → ko → default).
 */
import type { Channel } from '../domain/channels.ts';
import type { TemplateVersion } from '../domain/template.ts';

/** The tag's prefixes longer than its language, longest first: zh-hant-tw → [zh-hant-tw, zh-hant]. */
function narrowerThanLanguage(tag: string): string[] {
  const subtags = tag.split('-');
  const out: string[] = [];
  for (let n = subtags.length; n > 1; n--) out.push(subtags.slice(0, n).join('-'));
  return out;
}

/** The tag with its likely script (zh-TW → zh-Hant-TW, zh-CN → zh-Hans-CN), by CLDR's likely subtags. */
function withLikelyScript(tag: string): string | null {
  try {
    return new Intl.Locale(tag).maximize().toString().toLowerCase();
  } catch {
    return null;
  }
}

const candidateCache = new Map<string, string[]>();

/**
 * The tag in its canonical form, lower-cased, as template keys are stored: Android's legacy codes
 * (`iw_IL`, `in_ID`, `ji`) become `he-il`, `id-id`, `yi`. A tag Intl cannot read stays as given.
 */
function canonical(tag: string): string {
  try {
    return (Intl.getCanonicalLocales(tag)[0] ?? tag).toLowerCase();
  } catch {
    return tag.toLowerCase();
  }
}

/**
 * 'ko-KR' → ['ko-kr', 'ko'], then the default; lower case because BCP 47 tags are case-insensitive.
 * The script a region implies comes before the bare language: a zh-TW reader gets a template's
 * zh-Hant (Traditional) rather than its zh (Simplified), and zh-HK too; zh-CN gets zh-Hans.
 */
function candidates(locale: string | null, defaultLocale: string): string[] {
  const key = `${locale ?? ''}|${defaultLocale}`;
  const cached = candidateCache.get(key);
  if (cached) return cached;
  const tag = canonical((locale ?? '').replace(/_/g, '-').split('-').filter(Boolean).join('-'));
  const likely = tag ? withLikelyScript(tag) : null;
  const language = tag.split('-')[0] ?? '';
  // The tag itself first, so an exact match wins (a template's zh for a zh reader, not its zh-Hans).
  const out = [...new Set([...(tag ? [tag] : []), ...narrowerThanLanguage(tag), ...(likely ? narrowerThanLanguage(likely) : []), ...(language ? [language] : []), defaultLocale.toLowerCase()])];
  if (candidateCache.size >= 1_000) candidateCache.clear();
  candidateCache.set(key, out);
  return out;
}

/**
 * The template locale a recipient with `locale` (null: unknown) gets for `channel`. Fallback is
 * per channel, so a translation that only covers push still sends email in the default language
 * rather than none. Null when no candidate locale has that channel.
 */
export function resolveLocale(version: TemplateVersion, locale: string | null, channel?: Channel): string | null {
  const byLower = new Map(Object.keys(version.locales).map((k) => [k.toLowerCase(), k]));
  for (const candidate of candidates(locale, version.defaultLocale)) {
    const key = byLower.get(candidate);
    if (key && (!channel || version.locales[key]?.[channel])) return key;
  }
  return null;
}
