/**
 * A notification language as data: its tag, the locale its dates are written in, the
 * languages to fall back to (in order) when a text is not given in it, and the built-in
 * templates written in it. Adding a language is adding one file beside this one and
 * naming it in index.ts; nothing else in the code lists languages.
 */
export interface TemplateTexts {
  /** travels in clear (GovApp title): no values in it */
  title: string;
  /** HTML body, values HTML-escaped; end-to-end encrypted to the devices */
  html: string;
  /** plain SMS text; GSM 03.38 basic characters only, so it goes as GSM-7 */
  sms: string;
}

/** The built-in template ids; every language pack writes each of them. */
export const TEMPLATE_IDS = ['registered-mail', 'document-available', 'appointment-reminder'] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

export interface LanguagePack<Tag extends string = string> {
  /** ISO 639-1 */
  tag: Tag;
  /** the language's own name for itself */
  name: string;
  /** BCP 47 locale for dates (Intl.DateTimeFormat) */
  locale: string;
  /** where to look, in order, when a text is not given in this language (see fallbackChain) */
  fallback: readonly string[];
  templates: Record<TemplateId, TemplateTexts>;
}
