/**
 * The keywords a phone can answer to stop (or restart) SMS, as data. A reply is a keyword
 * when, put in a canonical form, it equals one of these words: Unicode NFKD with the
 * accents dropped, upper case, and everything but letters and digits removed — so "Stop",
 * " stop! ", "Arrêt", "ARRET", "stop alle" and "STOP-ALLE" all match. A longer text that
 * merely contains a keyword ("please stop sending") is an ordinary reply.
 *
 *   OPT_OUT       no more SMS from the sender whose SMS the number last received
 *   OPT_OUT_ALL   no more SMS from any sender of the service
 *   OPT_IN        undoes what blocks that sender: its own opt-out and an all-senders one
 *   OPT_IN_ALL    undoes every opt-out of the number
 *
 * A STOP that cannot be attributed to a sender (the number received no SMS within
 * NOTIFY_INBOUND_ATTRIBUTION_DAYS) opts out of every sender: the wish to receive nothing is
 * not narrowed by a guess.
 */
import type { KeywordAction } from '../../store/InboundSmsRepository.js';

export type { KeywordAction };

/** Per action, the keywords (as written; matched in canonical form), with their language. */
export const KEYWORDS: Readonly<Record<KeywordAction, ReadonlyArray<{ word: string; languages: string[] }>>> = {
  OPT_OUT: [
    { word: 'STOP', languages: ['en', 'nl', 'fr', 'de', 'da'] },
    { word: 'STOPP', languages: ['de', 'no', 'sv'] },
    { word: 'ARRÊT', languages: ['fr'] },
    { word: 'ARRÊTER', languages: ['fr'] },
    { word: 'AFMELD', languages: ['da'] },
    { word: 'AFMELDEN', languages: ['nl'] },
    { word: 'UITSCHRIJVEN', languages: ['nl'] },
    { word: 'ABMELDEN', languages: ['de'] },
    { word: 'DÉSINSCRIRE', languages: ['fr'] },
    { word: 'UNSUBSCRIBE', languages: ['en'] },
  ],
  OPT_OUT_ALL: [
    { word: 'STOP ALL', languages: ['en'] },
    { word: 'STOP ALLE', languages: ['nl', 'de', 'da'] },
    { word: 'STOP ALLES', languages: ['nl', 'de'] },
    { word: 'STOPP ALLE', languages: ['de', 'no', 'sv'] },
    { word: 'STOP TOUT', languages: ['fr'] },
    { word: 'ARRÊT TOUT', languages: ['fr'] },
    { word: 'AFMELD ALLE', languages: ['da'] },
  ],
  OPT_IN: [
    { word: 'START', languages: ['en', 'nl', 'fr', 'de', 'da'] },
    { word: 'TILMELD', languages: ['da'] },
    { word: 'AANMELDEN', languages: ['nl'] },
    { word: 'ANMELDEN', languages: ['de'] },
    { word: 'UNSTOP', languages: ['en'] },
  ],
  OPT_IN_ALL: [
    { word: 'START ALL', languages: ['en'] },
    { word: 'START ALLE', languages: ['nl', 'de', 'da'] },
    { word: 'START TOUT', languages: ['fr'] },
    { word: 'TILMELD ALLE', languages: ['da'] },
  ],
};

/** The canonical form a reply is compared in: no accents, upper case, letters and digits only. */
export function canonicalKeyword(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const BY_CANONICAL: ReadonlyMap<string, KeywordAction> = new Map(
  (Object.entries(KEYWORDS) as Array<[KeywordAction, ReadonlyArray<{ word: string }>]>).flatMap(([action, words]) => words.map((w) => [canonicalKeyword(w.word), action] as const)),
);

/** What a reply asks for, or undefined for an ordinary reply. */
export function matchKeyword(text: string): KeywordAction | undefined {
  // a keyword is short: do not normalise a long text for nothing
  if (text.length > 40) return undefined;
  return BY_CANONICAL.get(canonicalKeyword(text));
}
