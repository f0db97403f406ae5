/**
 * Notification texts: per language a clear title and an HTML body (GovApp) and a plain
 * SMS text, with named placeholders `{name}`: a `{`, then a letter and up to 39 letters,
 * digits or `_`, then `}`. Any other `{` is text as it stands (`{ x }`, `{5 EUR}`, `{"a":1}`,
 * a lone `{`); `{{` and `}}` write a literal brace where a placeholder would otherwise be
 * read (`{{name}}` is the text `{name}`).
 *
 * The built-in templates' texts are in the language packs (languages/); a sender may instead give its own text per language
 * (same shape, same placeholders). Values are inserted as text: HTML-escaped in the HTML
 * body, as is in the title and the SMS. A placeholder without a value is an error, never
 * an empty string. Template ids and placeholder names come from requests: they are looked
 * up among own entries only (a Map, Object.hasOwn), never among Object.prototype's names.
 *
 * The SMS texts of the built-in templates avoid characters outside the GSM 7-bit alphabet
 * (`ç`, `ê`, `ó`, …) so that they are sent as GSM-7 (160 characters per SMS), unless a value
 * (e.g. a subject) brings such a character.
 */
import { chooseLanguage, languagePack, LANGUAGES, type Language } from './Language.js';
import { TEMPLATE_IDS, type TemplateId } from './languages/index.js';

export interface ContentParts {
  /** travels in clear: keep personal data out of it */
  title?: string;
  /** end-to-end encrypted to the recipient's devices; sanitised */
  html?: string;
  /** plain text */
  sms?: string;
}

export type ContentSet = Partial<Record<Language, ContentParts>>;

export interface BuiltinTemplate {
  id: string;
  description: string;
  placeholders: readonly string[];
  languages: Record<Language, Required<ContentParts>>;
}

export class TemplateError extends Error {
  constructor(
    readonly kind: 'PLACEHOLDER_MISSING',
    readonly placeholder: string,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const TOKEN = /\{\{|\}\}|\{([A-Za-z][A-Za-z0-9_]{0,39})\}/g;

/** The placeholder names used in a text, in order of first use. */
export function placeholdersOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(TOKEN)) if (m[1] && !out.includes(m[1])) out.push(m[1]);
  return out;
}

/** Fills `{name}` from `values`; `escape` is applied to each value (e.g. HTML escaping). */
export function renderText(text: string, values: Record<string, string>, escape: (s: string) => string = (s) => s): string {
  return text.replace(TOKEN, (whole, name: string | undefined) => {
    if (name === undefined) return whole[0]!; // {{ → {, }} → }
    // own members only: "{toString}" is a placeholder like any other, not Object.prototype.toString
    const v = Object.hasOwn(values, name) ? values[name] : undefined;
    if (v === undefined) throw new TemplateError('PLACEHOLDER_MISSING', name, `no value for the placeholder {${name}}`);
    return escape(v);
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderContent(parts: ContentParts, values: Record<string, string>): ContentParts {
  return {
    title: parts.title === undefined ? undefined : renderText(parts.title, values),
    html: parts.html === undefined ? undefined : renderText(parts.html, values, escapeHtml),
    sms: parts.sms === undefined ? undefined : renderText(parts.sms, values),
  };
}

/**
 * The language to write in for a recipient who reads `wanted`: the first of its fallback
 * chain (Language.ts) in which the set has a text.
 */
export function pickLanguage(set: ContentSet, wanted: Language): Language | undefined {
  return chooseLanguage(wanted, (l) => set[l] !== undefined);
}

/** The built-in template with this id; undefined for any other string (ids come from requests). */
export function builtinTemplate(id: string): BuiltinTemplate | undefined {
  return BUILTIN_TEMPLATES.get(id);
}

/** What each built-in template is for and the values it needs; the texts are in the language packs. */
const TEMPLATE_META: Record<TemplateId, { description: string; placeholders: readonly string[] }> = {
  'registered-mail': { description: 'A registered letter is waiting in the e-Box (sent by the service after ContentConsignment)', placeholders: ['sender', 'subject', 'expiresOn'] },
  'document-available': { description: 'A document is available in the e-Box', placeholders: ['sender', 'subject'] },
  'appointment-reminder': { description: 'A reminder of an appointment, deadline or meeting (NemSMS-style)', placeholders: ['sender', 'what', 'date', 'time'] },
};

function template(id: TemplateId): BuiltinTemplate {
  const languages = Object.fromEntries(LANGUAGES.map((l) => [l, { ...languagePack(l).templates[id] }])) as Record<Language, Required<ContentParts>>;
  return { id, ...TEMPLATE_META[id], languages };
}

/** By id. A Map, so that a request's template id is never looked up among Object.prototype's names. */
export const BUILTIN_TEMPLATES: ReadonlyMap<string, BuiltinTemplate> = new Map(TEMPLATE_IDS.map((id) => [id, template(id)]));

/** The notice the service sends after ContentConsignment. */
export const REGISTERED_MAIL_TEMPLATE: BuiltinTemplate = BUILTIN_TEMPLATES.get('registered-mail')!;
