/**
 * The pages' language: `?lang=` (then remembered in a cookie), else the cookie, else the
 * best of Accept-Language, else English. Page text lives in tables under i18n/, one per page,
 * typed `Texts<T>` so that a language left out fails the typecheck.
 */
import type { Request, Response } from 'express';
import { readCookie } from './cookies.js';

export const LANGS = ['nl', 'fr', 'de', 'en'] as const;
export type Lang = (typeof LANGS)[number];

/** A page's text table: every language, the same keys. */
export type Texts<T> = Record<Lang, T>;

export const LANG_COOKIE = 'rm_lang';
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

export function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && (LANGS as readonly string[]).includes(v);
}

/** The best language of an Accept-Language header (RFC 9110 §12.5.4), by quality then order; undefined when none is ours. */
export function fromAcceptLanguage(header: string | undefined): Lang | undefined {
  if (!header) return undefined;
  const ranges = header
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { lang: (tag ?? '').trim().toLowerCase().split('-')[0], quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((r) => r.quality > 0 && isLang(r.lang))
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  return ranges[0]?.lang as Lang | undefined;
}

/** The language of this request's page; a `?lang=` is remembered in a cookie for the next pages. Cached on res.locals. */
export function pickLang(req: Request, res: Response): Lang {
  const cached: unknown = res.locals.lang;
  if (isLang(cached)) return cached;
  const asked = req.query.lang;
  let lang: Lang;
  if (isLang(asked)) {
    lang = asked;
    if (!res.headersSent) {
      res.cookie(LANG_COOKIE, lang, { httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: ONE_YEAR_SECONDS * 1000 });
    }
  } else {
    const remembered = readCookie(req, LANG_COOKIE);
    lang = isLang(remembered) ? remembered : (fromAcceptLanguage(req.headers['accept-language']) ?? 'en');
  }
  res.locals.lang = lang;
  return lang;
}

/** Dates as people read them in the language (Europe/Brussels: the service's users). */
export function formatDateTime(lang: Lang, iso: string): string {
  const locale = { nl: 'nl-BE', fr: 'fr-BE', de: 'de-BE', en: 'en-GB' }[lang];
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Brussels' }).format(new Date(iso));
}
