/**
 * The languages notifications are written in, from the language packs (languages/): the
 * e-Box and GovApp languages nl, fr, de, plus en and da. Which text a recipient gets when
 * the sender did not write in the recipient's language is decided by `fallbackChain`.
 */
import { LANGUAGE_PACKS, type LanguagePack } from './languages/index.js';

export type Language = (typeof LANGUAGE_PACKS)[number]['tag'];
export const LANGUAGES: readonly Language[] = LANGUAGE_PACKS.map((p) => p.tag);

const PACKS: ReadonlyMap<string, LanguagePack<Language>> = new Map(LANGUAGE_PACKS.map((p) => [p.tag, p as LanguagePack<Language>]));

export function isLanguage(x: unknown): x is Language {
  return typeof x === 'string' && PACKS.has(x);
}

export function languagePack(language: Language): LanguagePack<Language> {
  return PACKS.get(language)!;
}

/** "nl, fr, de, en or da", for error messages. */
export function languageList(conjunction = 'or'): string {
  return `${LANGUAGES.slice(0, -1).join(', ')} ${conjunction} ${LANGUAGES[LANGUAGES.length - 1]}`;
}

/**
 * Where to look for a text, in order, for a recipient who reads `wanted`: the language
 * itself, then its pack's fallback list, then every other language in LANGUAGES order (so
 * the chain names each language exactly once and a text in any language is found).
 */
export function fallbackChain(wanted: Language): Language[] {
  const chain: Language[] = [wanted];
  for (const l of [...languagePack(wanted).fallback, ...LANGUAGES]) if (isLanguage(l) && !chain.includes(l)) chain.push(l);
  return chain;
}

/** The first language of the recipient's chain for which `has` is true (undefined: none). */
export function chooseLanguage(wanted: Language, has: (language: Language) => boolean): Language | undefined {
  return fallbackChain(wanted).find(has);
}

/** Dates in notices, written the way each language writes them (Europe/Brussels by default). */
export function formatDate(d: Date, language: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(languagePack(language).locale, { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
}
