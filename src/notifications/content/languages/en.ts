import type { LanguagePack } from './LanguagePack.js';

/** English. Falls back to French, then Dutch, then German. */
export default {
  tag: 'en',
  name: 'English',
  locale: 'en-GB',
  fallback: ['fr', 'nl', 'de'],
  templates: {
    'registered-mail': {
      title: 'New registered letter',
      html: '<p>You have received a registered letter from <strong>{sender}</strong> in your e-Box.</p><p>Subject: {subject}</p><p>Open it before {expiresOn}.</p>',
      sms: 'Registered letter from {sender} in your e-Box: "{subject}". Open it before {expiresOn}.',
    },
    'document-available': {
      title: 'New document',
      html: '<p>A new document from <strong>{sender}</strong> is in your e-Box.</p><p>{subject}</p>',
      sms: 'New document from {sender} in your e-Box: "{subject}".',
    },
    'appointment-reminder': {
      title: 'Reminder',
      html: '<p>Reminder from <strong>{sender}</strong>: {what} on {date} at {time}.</p>',
      sms: 'Reminder from {sender}: {what} on {date} at {time}.',
    },
  },
} as const satisfies LanguagePack<'en'>;
