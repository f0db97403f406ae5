import type { LanguagePack } from './LanguagePack.js';

/** French (Belgium). Falls back to Dutch, the other language most Belgian letters are in, then English. */
export default {
  tag: 'fr',
  name: 'Français',
  locale: 'fr-BE',
  fallback: ['nl', 'en', 'de'],
  templates: {
    'registered-mail': {
      title: 'Nouvel envoi recommandé',
      html: '<p>Vous avez reçu un envoi recommandé de <strong>{sender}</strong> dans votre e-Box.</p><p>Objet : {subject}</p><p>Consultez-le avant le {expiresOn}.</p>',
      sms: 'Envoi recommandé de {sender} dans votre e-Box : "{subject}". Consultez-le avant le {expiresOn}.',
    },
    'document-available': {
      title: 'Nouveau document',
      html: '<p>Un nouveau document de <strong>{sender}</strong> est disponible dans votre e-Box.</p><p>{subject}</p>',
      sms: 'Nouveau document de {sender} dans votre e-Box : "{subject}".',
    },
    'appointment-reminder': {
      title: 'Rappel',
      html: '<p>Rappel de <strong>{sender}</strong> : {what} le {date} à {time}.</p>',
      sms: 'Rappel de {sender} : {what} le {date} à {time}.',
    },
  },
} as const satisfies LanguagePack<'fr'>;
