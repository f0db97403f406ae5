/** The languages notifications are written in (the e-Box and GovApp languages, plus English). */
export const LANGUAGES = ['nl', 'fr', 'de', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(x: unknown): x is Language {
  return typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);
}

/** Dates in notices, written the way each language writes them (Europe/Brussels by default). */
export function formatDate(d: Date, language: Language, timeZone: string): string {
  const locale = { nl: 'nl-BE', fr: 'fr-BE', de: 'de-BE', en: 'en-GB' }[language];
  return new Intl.DateTimeFormat(locale, { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
}
