import type { LanguagePack } from './LanguagePack.js';

/**
 * Danish, as NemSMS writes to Danish residents. Danish letters (æ, ø, å and their capitals)
 * are in the GSM 03.38 basic alphabet, so these SMS texts go as GSM-7. Falls back to
 * English, then German, then Dutch and French.
 */
export default {
  tag: 'da',
  name: 'Dansk',
  locale: 'da-DK',
  fallback: ['en', 'de', 'nl', 'fr'],
  templates: {
    'registered-mail': {
      title: 'Nyt anbefalet brev',
      html: '<p>Du har modtaget et anbefalet brev fra <strong>{sender}</strong> i din e-Box.</p><p>Emne: {subject}</p><p>Åbn det inden {expiresOn}.</p>',
      sms: 'Anbefalet brev fra {sender} i din e-Box: "{subject}". Åbn det inden {expiresOn}.',
    },
    'document-available': {
      title: 'Nyt dokument',
      html: '<p>Der er et nyt dokument fra <strong>{sender}</strong> i din e-Box.</p><p>{subject}</p>',
      sms: 'Nyt dokument fra {sender} i din e-Box: "{subject}".',
    },
    'appointment-reminder': {
      title: 'Påmindelse',
      html: '<p>Påmindelse fra <strong>{sender}</strong>: {what} den {date} kl. {time}.</p>',
      sms: 'Påmindelse fra {sender}: {what} den {date} kl. {time}.',
    },
  },
} as const satisfies LanguagePack<'da'>;
