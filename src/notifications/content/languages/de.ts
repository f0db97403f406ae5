import type { LanguagePack } from './LanguagePack.js';

/**
 * German (Belgium). The German-speaking Community lies in Wallonia, whose administration
 * writes in French: French comes first, then Dutch, then English.
 */
export default {
  tag: 'de',
  name: 'Deutsch',
  locale: 'de-BE',
  fallback: ['fr', 'nl', 'en'],
  templates: {
    'registered-mail': {
      title: 'Neues Einschreiben',
      html: '<p>Sie haben ein Einschreiben von <strong>{sender}</strong> in Ihrer e-Box erhalten.</p><p>Betreff: {subject}</p><p>Bitte öffnen Sie es vor dem {expiresOn}.</p>',
      sms: 'Einschreiben von {sender} in Ihrer e-Box: "{subject}". Bitte vor dem {expiresOn} öffnen.',
    },
    'document-available': {
      title: 'Neues Dokument',
      html: '<p>Ein neues Dokument von <strong>{sender}</strong> liegt in Ihrer e-Box.</p><p>{subject}</p>',
      sms: 'Neues Dokument von {sender} in Ihrer e-Box: "{subject}".',
    },
    'appointment-reminder': {
      title: 'Erinnerung',
      html: '<p>Erinnerung von <strong>{sender}</strong>: {what} am {date} um {time}.</p>',
      sms: 'Erinnerung von {sender}: {what} am {date} um {time}.',
    },
  },
} as const satisfies LanguagePack<'de'>;
