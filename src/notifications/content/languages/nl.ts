import type { LanguagePack } from './LanguagePack.js';

/** Dutch (Belgium). Falls back to the other official languages first, French before German. */
export default {
  tag: 'nl',
  name: 'Nederlands',
  locale: 'nl-BE',
  fallback: ['fr', 'en', 'de'],
  templates: {
    'registered-mail': {
      title: 'Nieuwe aangetekende zending',
      html: '<p>U hebt een aangetekende zending van <strong>{sender}</strong> ontvangen in uw e-Box.</p><p>Onderwerp: {subject}</p><p>Open ze voor {expiresOn}.</p>',
      sms: 'Aangetekende zending van {sender} in uw e-Box: "{subject}". Open ze voor {expiresOn}.',
    },
    'document-available': {
      title: 'Nieuw document',
      html: '<p>Er staat een nieuw document van <strong>{sender}</strong> in uw e-Box.</p><p>{subject}</p>',
      sms: 'Nieuw document van {sender} in uw e-Box: "{subject}".',
    },
    'appointment-reminder': {
      title: 'Herinnering',
      html: '<p>Herinnering van <strong>{sender}</strong>: {what} op {date} om {time}.</p>',
      sms: 'Herinnering van {sender}: {what} op {date} om {time}.',
    },
  },
} as const satisfies LanguagePack<'nl'>;
