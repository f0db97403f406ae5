/**
 * The HTML body of a GovApp message, sanitised with sanitize-html against an allow-list
 * before it is encrypted: text formatting, lists, tables, headings and links. Everything
 * else goes:
 *   - script, style, iframe, object, embed, form, svg, math, … (with their content for
 *     script/style/textarea/noscript);
 *   - every attribute not listed, so all event handlers (`onclick`, `onerror`, …) and
 *     `style` (which could load `url(…)`);
 *   - remote resources: no `img`, `video`, `audio`, `source`, `link`, `base`, `meta`;
 *   - links other than https:, mailto: and tel: (no javascript:, data:, http:, and no
 *     protocol-relative `//host`).
 */
import sanitizeHtml from 'sanitize-html';

export const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'small', 'sub', 'sup', 'code', 'pre',
  'blockquote', 'h1', 'h2', 'h3', 'h4', 'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
] as const;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: { a: ['href', 'title'], th: ['colspan', 'rowspan'], td: ['colspan', 'rowspan'] },
  allowedSchemes: ['https', 'mailto', 'tel'],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head'],
  enforceHtmlBoundary: false,
  parseStyleAttributes: false,
};

export function sanitizeNotificationHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS).trim();
}

/** The text a reader would see (for checking that a sanitised body is not empty). */
export function visibleText(html: string): string {
  return sanitizeHtml(html, { allowedTags: [], allowedAttributes: {} }).replace(/\s+/g, ' ').trim();
}
