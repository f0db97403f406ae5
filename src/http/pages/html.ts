/**
 * The one way pages make markup: a tagged template whose every interpolation is escaped
 * (strings, numbers, arrays of fragments), unless it is a fragment made by `html` or `raw`.
 *
 *   html`<p>${name}</p>`            name escaped
 *   html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`   fragments kept
 *
 * Attribute values must be quoted in the template (`href="${url}"`): quotes are escaped too.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(v: HtmlValue): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup taken as it is: only for text the code itself wrote, never for data. */
export function raw(markup: string): Html {
  return new Html(markup);
}
