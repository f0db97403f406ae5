/** The notification languages, in the order used when nothing else decides. */
import da from './da.js';
import de from './de.js';
import en from './en.js';
import fr from './fr.js';
import nl from './nl.js';

export const LANGUAGE_PACKS = [nl, fr, de, en, da] as const;
export type { LanguagePack, TemplateId, TemplateTexts } from './LanguagePack.js';
export { TEMPLATE_IDS } from './LanguagePack.js';
