/**
 * Notification texts: per language a clear title and an HTML body (GovApp) and a plain
 * SMS text, with named placeholders `{name}`: a `{`, then a letter and up to 39 letters,
 * digits or `_`, then `}`. Any other `{` is text as it stands (`{ x }`, `{5 EUR}`, `{"a":1}`,
 * a lone `{`); `{{` and `}}` write a literal brace where a placeholder would otherwise be
 * read (`{{name}}` is the text `{name}`).
 *
 * The built-in templates are below; a sender may instead give its own text per language
 * (same shape, same placeholders). Values are inserted as text: HTML-escaped in the HTML
 * body, as is in the title and the SMS. A placeholder without a value is an error, never
 * an empty string. Template ids and placeholder names come from requests: they are looked
 * up among own entries only (a Map, Object.hasOwn), never among Object.prototype's names.
 *
 * The SMS texts of the built-in templates avoid characters outside the GSM 7-bit alphabet
 * (`ç`, `ê`, `ó`, …) so that they are sent as GSM-7 (160 characters per SMS), unless a value
 * (e.g. a subject) brings such a character.
 */
import { LANGUAGES, type Language } from './Language.js';

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

/** The wanted language if the set has it, else the first of nl, fr, de, en that it has. */
export function pickLanguage(set: ContentSet, wanted: Language): Language | undefined {
  if (set[wanted]) return wanted;
  return LANGUAGES.find((l) => set[l] !== undefined);
}

/** The built-in template with this id; undefined for any other string (ids come from requests). */
export function builtinTemplate(id: string): BuiltinTemplate | undefined {
  return BUILTIN_TEMPLATES.get(id);
}

const TEMPLATES: Record<'registered-mail' | 'document-available' | 'appointment-reminder', BuiltinTemplate> = {
  'registered-mail': {
    id: 'registered-mail',
    description: 'A registered letter is waiting in the e-Box (sent by the service after ContentConsignment)',
    placeholders: ['sender', 'subject', 'expiresOn'],
    languages: {
      nl: {
        title: 'Nieuwe aangetekende zending',
        html: '<p>U hebt een aangetekende zending van <strong>{sender}</strong> ontvangen in uw e-Box.</p><p>Onderwerp: {subject}</p><p>Open ze voor {expiresOn}.</p>',
        sms: 'Aangetekende zending van {sender} in uw e-Box: "{subject}". Open ze voor {expiresOn}.',
      },
      fr: {
        title: 'Nouvel envoi recommandé',
        html: '<p>Vous avez reçu un envoi recommandé de <strong>{sender}</strong> dans votre e-Box.</p><p>Objet : {subject}</p><p>Consultez-le avant le {expiresOn}.</p>',
        sms: 'Envoi recommandé de {sender} dans votre e-Box : "{subject}". Consultez-le avant le {expiresOn}.',
      },
      de: {
        title: 'Neues Einschreiben',
        html: '<p>Sie haben ein Einschreiben von <strong>{sender}</strong> in Ihrer e-Box erhalten.</p><p>Betreff: {subject}</p><p>Bitte öffnen Sie es vor dem {expiresOn}.</p>',
        sms: 'Einschreiben von {sender} in Ihrer e-Box: "{subject}". Bitte vor dem {expiresOn} öffnen.',
      },
      en: {
        title: 'New registered letter',
        html: '<p>You have received a registered letter from <strong>{sender}</strong> in your e-Box.</p><p>Subject: {subject}</p><p>Open it before {expiresOn}.</p>',
        sms: 'Registered letter from {sender} in your e-Box: "{subject}". Open it before {expiresOn}.',
      },
    },
  },
  'document-available': {
    id: 'document-available',
    description: 'A document is available in the e-Box',
    placeholders: ['sender', 'subject'],
    languages: {
      nl: { title: 'Nieuw document', html: '<p>Er staat een nieuw document van <strong>{sender}</strong> in uw e-Box.</p><p>{subject}</p>', sms: 'Nieuw document van {sender} in uw e-Box: "{subject}".' },
      fr: { title: 'Nouveau document', html: '<p>Un nouveau document de <strong>{sender}</strong> est disponible dans votre e-Box.</p><p>{subject}</p>', sms: 'Nouveau document de {sender} dans votre e-Box : "{subject}".' },
      de: { title: 'Neues Dokument', html: '<p>Ein neues Dokument von <strong>{sender}</strong> liegt in Ihrer e-Box.</p><p>{subject}</p>', sms: 'Neues Dokument von {sender} in Ihrer e-Box: "{subject}".' },
      en: { title: 'New document', html: '<p>A new document from <strong>{sender}</strong> is in your e-Box.</p><p>{subject}</p>', sms: 'New document from {sender} in your e-Box: "{subject}".' },
    },
  },
  'appointment-reminder': {
    id: 'appointment-reminder',
    description: 'A reminder of an appointment, deadline or meeting (NemSMS-style)',
    placeholders: ['sender', 'what', 'date', 'time'],
    languages: {
      nl: { title: 'Herinnering', html: '<p>Herinnering van <strong>{sender}</strong>: {what} op {date} om {time}.</p>', sms: 'Herinnering van {sender}: {what} op {date} om {time}.' },
      fr: { title: 'Rappel', html: '<p>Rappel de <strong>{sender}</strong> : {what} le {date} à {time}.</p>', sms: 'Rappel de {sender} : {what} le {date} à {time}.' },
      de: { title: 'Erinnerung', html: '<p>Erinnerung von <strong>{sender}</strong>: {what} am {date} um {time}.</p>', sms: 'Erinnerung von {sender}: {what} am {date} um {time}.' },
      en: { title: 'Reminder', html: '<p>Reminder from <strong>{sender}</strong>: {what} on {date} at {time}.</p>', sms: 'Reminder from {sender}: {what} on {date} at {time}.' },
    },
  },
};

/** By id. A Map, so that a request's template id is never looked up among Object.prototype's names. */
export const BUILTIN_TEMPLATES: ReadonlyMap<string, BuiltinTemplate> = new Map(Object.values(TEMPLATES).map((t) => [t.id, t]));

/** The notice the service sends after ContentConsignment. */
export const REGISTERED_MAIL_TEMPLATE: BuiltinTemplate = TEMPLATES['registered-mail'];
