/** Text of the sender's console (/console): messages, a message's timeline, webhook, API keys. */
import type { MessageStatus } from '../../../domain/status.js';
import type { Texts } from '../i18n.js';

export interface ConsoleText {
  title: string;
  nav: { messages: string; webhook: string; keys: string; label: string };
  sender: string;
  // the list
  filters: string;
  status: string;
  anyStatus: string;
  statuses: Record<MessageStatus, string>;
  from: string;
  to: string;
  reference: string;
  recipientType: string;
  recipientId: string;
  anyRecipient: string;
  citizen: string;
  enterprise: string;
  apply: string;
  reset: string;
  filterInvalid: string;
  messagesCaption: string;
  submitted: string;
  recipient: string;
  subject: string;
  noMessages: string;
  nextPage: string;
  firstPage: string;
  bundle: string;
  bundleHint: (max: number) => string;
  usage: string;
  usageMessages: string;
  usagePrevious: string;
  usageNext: string;
  channel: string;
  notifications: string;
  units: string;
  noNotifications: string;
  // a message
  messageTitle: string;
  back: string;
  details: string;
  messageId: string;
  expires: string;
  documents: string;
  fileName: string;
  size: string;
  events: string;
  event: string;
  time: string;
  proofs: string;
  proofType: string;
  download: string;
  downloadDer: string;
  downloadPdf: string;
  noneYet: string;
  attempts: string;
  lastError: string;
  nextAttempt: string;
  webhookDeliveries: string;
  reportedStatus: string;
  delivery: string;
  // webhook
  webhookTitle: string;
  webhookIntro: string;
  webhookCurrent: string;
  webhookNone: string;
  webhookUrl: string;
  webhookSave: string;
  webhookRemove: string;
  webhookSaved: string;
  webhookSecret: string;
  webhookSecretOnce: string;
  webhookRemoved: string;
  webhookRemoveText: string;
  webhookRemoveConfirm: string;
  webhookInvalid: string;
  webhookForbidden: string;
  // keys
  keysTitle: string;
  keysIntro: string;
  keysCaption: string;
  keyName: string;
  keyKind: string;
  keyHint: string;
  created: string;
  lastUsed: string;
  state: string;
  actions: string;
  never: string;
  kinds: { api_key: string; tls_client_certificate: string };
  states: { active: string; revoked: string; expired: string };
  newKey: string;
  keyNameHint: string;
  create: string;
  keyCreatedTitle: string;
  keyOnce: string;
  keyLabel: string;
  keyInvalid: string;
  revoke: string;
  revokeTitle: string;
  revokeText: string;
  revokeConfirm: string;
  cancel: string;
  keyRevoked: string;
  backToKeys: string;
}

export const consoleText: Texts<ConsoleText> = {
  en: {
    title: 'Sender console',
    nav: { messages: 'Messages', webhook: 'Webhook', keys: 'API keys', label: 'Console' },
    sender: 'Sender',
    filters: 'Filter messages',
    status: 'Status',
    anyStatus: 'Any status',
    statuses: { RECEIVED: 'Received', ACCEPTED: 'Accepted', REJECTED: 'Rejected', DEPOSITED: 'Deposited', FAILED: 'Failed', CONSULTED: 'Opened', EXPIRED: 'Expired' },
    from: 'Submitted from',
    to: 'Submitted until',
    reference: 'Your reference',
    recipientType: 'Recipient type',
    recipientId: 'Recipient number',
    anyRecipient: 'Any recipient',
    citizen: 'Citizen (national number)',
    enterprise: 'Enterprise (enterprise number)',
    apply: 'Apply filter',
    reset: 'Clear filter',
    filterInvalid: 'The filter could not be read:',
    messagesCaption: 'Messages, newest first',
    submitted: 'Submitted',
    recipient: 'Recipient',
    subject: 'Subject',
    noMessages: 'No message matches this filter.',
    nextPage: 'Next page',
    firstPage: 'First page',
    bundle: 'Download the proofs of these messages (tar)',
    bundleHint: (max) => `At most ${max} messages: narrow the filter for more.`,
    usage: 'Usage this month',
    usageMessages: 'Messages submitted',
    usagePrevious: 'Previous month',
    usageNext: 'Next month',
    channel: 'Channel',
    notifications: 'Notifications',
    units: 'Units',
    noNotifications: 'No notifications this month.',
    messageTitle: 'Message',
    back: 'Back to the messages',
    details: 'Details',
    messageId: 'Message id',
    expires: 'Expires',
    documents: 'Documents',
    fileName: 'File',
    size: 'Size (bytes)',
    events: 'Events',
    event: 'Event',
    time: 'Time',
    proofs: 'Proofs',
    proofType: 'Proof',
    download: 'Download',
    downloadDer: 'Proof (DER)',
    downloadPdf: 'Receipt (PDF)',
    noneYet: 'None yet.',
    attempts: 'Attempts',
    lastError: 'Last error',
    nextAttempt: 'Next attempt',
    webhookDeliveries: 'Webhook deliveries',
    reportedStatus: 'Status reported',
    delivery: 'Delivery',
    webhookTitle: 'Webhook',
    webhookIntro: 'Each status change of your messages is posted to this address, signed with the secret (Webhook-Signature header).',
    webhookCurrent: 'Current address',
    webhookNone: 'No webhook is set.',
    webhookUrl: 'Webhook address (https://…)',
    webhookSave: 'Save address and make a new secret',
    webhookRemove: 'Remove the webhook',
    webhookSaved: 'The webhook is saved.',
    webhookSecret: 'Secret',
    webhookSecretOnce: 'Copy the secret now: it is shown only this once.',
    webhookRemoved: 'The webhook is removed.',
    webhookRemoveText: 'Status changes will no longer be posted to {url}. Setting an address again gives a new secret.',
    webhookRemoveConfirm: 'Yes, remove it',
    webhookInvalid: 'The address must be an absolute http(s) address of at most 2000 characters, without credentials.',
    webhookForbidden: 'The address must be a public address, or a name that resolves only to public addresses.',
    keysTitle: 'API keys',
    keysIntro: 'The credentials your applications use to call the service.',
    keysCaption: 'Credentials',
    keyName: 'Name',
    keyKind: 'Kind',
    keyHint: 'Starts with',
    created: 'Created',
    lastUsed: 'Last used',
    state: 'State',
    actions: 'Actions',
    never: 'Never',
    kinds: { api_key: 'API key', tls_client_certificate: 'Client certificate' },
    states: { active: 'Active', revoked: 'Revoked', expired: 'Expired' },
    newKey: 'New API key',
    keyNameHint: 'Letters, digits, spaces, ".", "_" or "-"; at most 100.',
    create: 'Create key',
    keyCreatedTitle: 'New API key',
    keyOnce: 'Copy the key now: it is shown only this once and cannot be shown again.',
    keyLabel: 'API key',
    keyInvalid: 'The name must be 1 to 100 letters, digits, spaces, ".", "_" or "-".',
    revoke: 'Revoke',
    revokeTitle: 'Revoke a credential',
    revokeText: 'Applications using this credential will be refused at once. This cannot be undone.',
    revokeConfirm: 'Yes, revoke it',
    cancel: 'Cancel',
    keyRevoked: 'The credential is revoked.',
    backToKeys: 'Back to the API keys',
  },
  nl: {
    title: 'Verzendersconsole',
    nav: { messages: 'Berichten', webhook: 'Webhook', keys: 'API-sleutels', label: 'Console' },
    sender: 'Verzender',
    filters: 'Berichten filteren',
    status: 'Status',
    anyStatus: 'Elke status',
    statuses: { RECEIVED: 'Ontvangen', ACCEPTED: 'Aanvaard', REJECTED: 'Geweigerd', DEPOSITED: 'Afgeleverd', FAILED: 'Mislukt', CONSULTED: 'Geopend', EXPIRED: 'Verlopen' },
    from: 'Verstuurd vanaf',
    to: 'Verstuurd tot en met',
    reference: 'Uw referentie',
    recipientType: 'Soort ontvanger',
    recipientId: 'Nummer van de ontvanger',
    anyRecipient: 'Elke ontvanger',
    citizen: 'Burger (rijksregisternummer)',
    enterprise: 'Onderneming (ondernemingsnummer)',
    apply: 'Filter toepassen',
    reset: 'Filter wissen',
    filterInvalid: 'De filter kon niet worden gelezen:',
    messagesCaption: 'Berichten, nieuwste eerst',
    submitted: 'Verstuurd',
    recipient: 'Ontvanger',
    subject: 'Onderwerp',
    noMessages: 'Geen enkel bericht voldoet aan deze filter.',
    nextPage: 'Volgende pagina',
    firstPage: 'Eerste pagina',
    bundle: 'De bewijzen van deze berichten downloaden (tar)',
    bundleHint: (max) => `Hoogstens ${max} berichten: verfijn de filter voor meer.`,
    usage: 'Verbruik deze maand',
    usageMessages: 'Verstuurde berichten',
    usagePrevious: 'Vorige maand',
    usageNext: 'Volgende maand',
    channel: 'Kanaal',
    notifications: 'Meldingen',
    units: 'Eenheden',
    noNotifications: 'Geen meldingen deze maand.',
    messageTitle: 'Bericht',
    back: 'Terug naar de berichten',
    details: 'Gegevens',
    messageId: 'Berichtnummer',
    expires: 'Verloopt',
    documents: 'Documenten',
    fileName: 'Bestand',
    size: 'Grootte (bytes)',
    events: 'Gebeurtenissen',
    event: 'Gebeurtenis',
    time: 'Tijdstip',
    proofs: 'Bewijzen',
    proofType: 'Bewijs',
    download: 'Downloaden',
    downloadDer: 'Bewijs (DER)',
    downloadPdf: 'Ontvangstbewijs (PDF)',
    noneYet: 'Nog geen.',
    attempts: 'Pogingen',
    lastError: 'Laatste fout',
    nextAttempt: 'Volgende poging',
    webhookDeliveries: 'Webhook-afleveringen',
    reportedStatus: 'Gemelde status',
    delivery: 'Aflevering',
    webhookTitle: 'Webhook',
    webhookIntro: 'Elke statuswijziging van uw berichten wordt naar dit adres gepost, ondertekend met het geheim (header Webhook-Signature).',
    webhookCurrent: 'Huidig adres',
    webhookNone: 'Er is geen webhook ingesteld.',
    webhookUrl: 'Webhook-adres (https://…)',
    webhookSave: 'Adres opslaan en een nieuw geheim maken',
    webhookRemove: 'De webhook verwijderen',
    webhookSaved: 'De webhook is opgeslagen.',
    webhookSecret: 'Geheim',
    webhookSecretOnce: 'Kopieer het geheim nu: het wordt maar deze ene keer getoond.',
    webhookRemoved: 'De webhook is verwijderd.',
    webhookRemoveText: 'Statuswijzigingen worden niet langer naar {url} gestuurd. Wie opnieuw een adres instelt, krijgt een nieuw geheim.',
    webhookRemoveConfirm: 'Ja, verwijderen',
    webhookInvalid: 'Het adres moet een absoluut http(s)-adres zijn van hoogstens 2000 tekens, zonder inloggegevens.',
    webhookForbidden: 'Het adres moet een publiek adres zijn, of een naam die alleen naar publieke adressen verwijst.',
    keysTitle: 'API-sleutels',
    keysIntro: 'De inloggegevens waarmee uw toepassingen de dienst aanspreken.',
    keysCaption: 'Inloggegevens',
    keyName: 'Naam',
    keyKind: 'Soort',
    keyHint: 'Begint met',
    created: 'Aangemaakt',
    lastUsed: 'Laatst gebruikt',
    state: 'Toestand',
    actions: 'Acties',
    never: 'Nooit',
    kinds: { api_key: 'API-sleutel', tls_client_certificate: 'Clientcertificaat' },
    states: { active: 'Actief', revoked: 'Ingetrokken', expired: 'Verlopen' },
    newKey: 'Nieuwe API-sleutel',
    keyNameHint: 'Letters, cijfers, spaties, ".", "_" of "-"; hoogstens 100.',
    create: 'Sleutel aanmaken',
    keyCreatedTitle: 'Nieuwe API-sleutel',
    keyOnce: 'Kopieer de sleutel nu: hij wordt maar deze ene keer getoond en kan niet opnieuw worden getoond.',
    keyLabel: 'API-sleutel',
    keyInvalid: 'De naam moet bestaan uit 1 tot 100 letters, cijfers, spaties, ".", "_" of "-".',
    revoke: 'Intrekken',
    revokeTitle: 'Inloggegevens intrekken',
    revokeText: 'Toepassingen die deze inloggegevens gebruiken, worden meteen geweigerd. Dit kan niet ongedaan worden gemaakt.',
    revokeConfirm: 'Ja, intrekken',
    cancel: 'Annuleren',
    keyRevoked: 'De inloggegevens zijn ingetrokken.',
    backToKeys: 'Terug naar de API-sleutels',
  },
  fr: {
    title: "Console de l'expéditeur",
    nav: { messages: 'Messages', webhook: 'Webhook', keys: 'Clés API', label: 'Console' },
    sender: 'Expéditeur',
    filters: 'Filtrer les messages',
    status: 'Statut',
    anyStatus: 'Tous les statuts',
    statuses: { RECEIVED: 'Reçu', ACCEPTED: 'Accepté', REJECTED: 'Refusé', DEPOSITED: 'Déposé', FAILED: 'Échoué', CONSULTED: 'Ouvert', EXPIRED: 'Expiré' },
    from: 'Envoyé à partir du',
    to: "Envoyé jusqu'au",
    reference: 'Votre référence',
    recipientType: 'Type de destinataire',
    recipientId: 'Numéro du destinataire',
    anyRecipient: 'Tous les destinataires',
    citizen: 'Citoyen (numéro de registre national)',
    enterprise: "Entreprise (numéro d'entreprise)",
    apply: 'Appliquer le filtre',
    reset: 'Effacer le filtre',
    filterInvalid: "Le filtre n'a pas pu être lu :",
    messagesCaption: "Messages, du plus récent au plus ancien",
    submitted: 'Envoyé',
    recipient: 'Destinataire',
    subject: 'Objet',
    noMessages: 'Aucun message ne correspond à ce filtre.',
    nextPage: 'Page suivante',
    firstPage: 'Première page',
    bundle: 'Télécharger les preuves de ces messages (tar)',
    bundleHint: (max) => `Au plus ${max} messages : affinez le filtre pour davantage.`,
    usage: 'Consommation du mois',
    usageMessages: 'Messages envoyés',
    usagePrevious: 'Mois précédent',
    usageNext: 'Mois suivant',
    channel: 'Canal',
    notifications: 'Notifications',
    units: 'Unités',
    noNotifications: 'Aucune notification ce mois-ci.',
    messageTitle: 'Message',
    back: 'Retour aux messages',
    details: 'Détails',
    messageId: 'Identifiant du message',
    expires: 'Expire',
    documents: 'Documents',
    fileName: 'Fichier',
    size: 'Taille (octets)',
    events: 'Événements',
    event: 'Événement',
    time: 'Heure',
    proofs: 'Preuves',
    proofType: 'Preuve',
    download: 'Télécharger',
    downloadDer: 'Preuve (DER)',
    downloadPdf: 'Accusé (PDF)',
    noneYet: "Aucun pour l'instant.",
    attempts: 'Tentatives',
    lastError: 'Dernière erreur',
    nextAttempt: 'Prochaine tentative',
    webhookDeliveries: 'Envois du webhook',
    reportedStatus: 'Statut annoncé',
    delivery: 'Envoi',
    webhookTitle: 'Webhook',
    webhookIntro: 'Chaque changement de statut de vos messages est envoyé à cette adresse, signé avec le secret (en-tête Webhook-Signature).',
    webhookCurrent: 'Adresse actuelle',
    webhookNone: "Aucun webhook n'est configuré.",
    webhookUrl: 'Adresse du webhook (https://…)',
    webhookSave: "Enregistrer l'adresse et créer un nouveau secret",
    webhookRemove: 'Supprimer le webhook',
    webhookSaved: 'Le webhook est enregistré.',
    webhookSecret: 'Secret',
    webhookSecretOnce: "Copiez le secret maintenant : il n'est affiché que cette fois.",
    webhookRemoved: 'Le webhook est supprimé.',
    webhookRemoveText: 'Les changements de statut ne seront plus envoyés à {url}. Une nouvelle adresse reçoit un nouveau secret.',
    webhookRemoveConfirm: 'Oui, le supprimer',
    webhookInvalid: "L'adresse doit être une adresse http(s) absolue d'au plus 2000 caractères, sans identifiants.",
    webhookForbidden: "L'adresse doit être publique, ou un nom qui ne mène qu'à des adresses publiques.",
    keysTitle: 'Clés API',
    keysIntro: 'Les identifiants avec lesquels vos applications appellent le service.',
    keysCaption: 'Identifiants',
    keyName: 'Nom',
    keyKind: 'Type',
    keyHint: 'Commence par',
    created: 'Créée',
    lastUsed: 'Dernière utilisation',
    state: 'État',
    actions: 'Actions',
    never: 'Jamais',
    kinds: { api_key: 'Clé API', tls_client_certificate: 'Certificat client' },
    states: { active: 'Active', revoked: 'Révoquée', expired: 'Expirée' },
    newKey: 'Nouvelle clé API',
    keyNameHint: 'Lettres, chiffres, espaces, « . », « _ » ou « - » ; 100 au plus.',
    create: 'Créer la clé',
    keyCreatedTitle: 'Nouvelle clé API',
    keyOnce: "Copiez la clé maintenant : elle n'est affichée que cette fois et ne pourra plus l'être.",
    keyLabel: 'Clé API',
    keyInvalid: 'Le nom doit compter de 1 à 100 lettres, chiffres, espaces, « . », « _ » ou « - ».',
    revoke: 'Révoquer',
    revokeTitle: 'Révoquer un identifiant',
    revokeText: 'Les applications qui utilisent cet identifiant seront refusées immédiatement. Cette action est définitive.',
    revokeConfirm: 'Oui, révoquer',
    cancel: 'Annuler',
    keyRevoked: "L'identifiant est révoqué.",
    backToKeys: 'Retour aux clés API',
  },
  de: {
    title: 'Absenderkonsole',
    nav: { messages: 'Nachrichten', webhook: 'Webhook', keys: 'API-Schlüssel', label: 'Konsole' },
    sender: 'Absender',
    filters: 'Nachrichten filtern',
    status: 'Status',
    anyStatus: 'Jeder Status',
    statuses: { RECEIVED: 'Empfangen', ACCEPTED: 'Angenommen', REJECTED: 'Abgelehnt', DEPOSITED: 'Zugestellt', FAILED: 'Fehlgeschlagen', CONSULTED: 'Geöffnet', EXPIRED: 'Abgelaufen' },
    from: 'Versandt ab',
    to: 'Versandt bis',
    reference: 'Ihr Zeichen',
    recipientType: 'Art des Empfängers',
    recipientId: 'Nummer des Empfängers',
    anyRecipient: 'Jeder Empfänger',
    citizen: 'Bürger (Nationalregisternummer)',
    enterprise: 'Unternehmen (Unternehmensnummer)',
    apply: 'Filter anwenden',
    reset: 'Filter löschen',
    filterInvalid: 'Der Filter konnte nicht gelesen werden:',
    messagesCaption: 'Nachrichten, neueste zuerst',
    submitted: 'Versandt',
    recipient: 'Empfänger',
    subject: 'Betreff',
    noMessages: 'Keine Nachricht entspricht diesem Filter.',
    nextPage: 'Nächste Seite',
    firstPage: 'Erste Seite',
    bundle: 'Die Nachweise dieser Nachrichten herunterladen (tar)',
    bundleHint: (max) => `Höchstens ${max} Nachrichten: für mehr den Filter einschränken.`,
    usage: 'Verbrauch in diesem Monat',
    usageMessages: 'Versandte Nachrichten',
    usagePrevious: 'Vorheriger Monat',
    usageNext: 'Nächster Monat',
    channel: 'Kanal',
    notifications: 'Benachrichtigungen',
    units: 'Einheiten',
    noNotifications: 'Keine Benachrichtigungen in diesem Monat.',
    messageTitle: 'Nachricht',
    back: 'Zurück zu den Nachrichten',
    details: 'Angaben',
    messageId: 'Nachrichtenkennung',
    expires: 'Läuft ab',
    documents: 'Dokumente',
    fileName: 'Datei',
    size: 'Größe (Bytes)',
    events: 'Ereignisse',
    event: 'Ereignis',
    time: 'Zeitpunkt',
    proofs: 'Nachweise',
    proofType: 'Nachweis',
    download: 'Herunterladen',
    downloadDer: 'Nachweis (DER)',
    downloadPdf: 'Bestätigung (PDF)',
    noneYet: 'Noch keine.',
    attempts: 'Versuche',
    lastError: 'Letzter Fehler',
    nextAttempt: 'Nächster Versuch',
    webhookDeliveries: 'Webhook-Zustellungen',
    reportedStatus: 'Gemeldeter Status',
    delivery: 'Zustellung',
    webhookTitle: 'Webhook',
    webhookIntro: 'Jede Statusänderung Ihrer Nachrichten wird an diese Adresse gesendet, signiert mit dem Geheimnis (Header Webhook-Signature).',
    webhookCurrent: 'Aktuelle Adresse',
    webhookNone: 'Kein Webhook eingerichtet.',
    webhookUrl: 'Webhook-Adresse (https://…)',
    webhookSave: 'Adresse speichern und ein neues Geheimnis erzeugen',
    webhookRemove: 'Den Webhook entfernen',
    webhookSaved: 'Der Webhook ist gespeichert.',
    webhookSecret: 'Geheimnis',
    webhookSecretOnce: 'Kopieren Sie das Geheimnis jetzt: Es wird nur dieses eine Mal angezeigt.',
    webhookRemoved: 'Der Webhook ist entfernt.',
    webhookRemoveText: 'Statusänderungen werden nicht mehr an {url} gesendet. Eine neue Adresse erhält ein neues Geheimnis.',
    webhookRemoveConfirm: 'Ja, entfernen',
    webhookInvalid: 'Die Adresse muss eine absolute http(s)-Adresse mit höchstens 2000 Zeichen sein, ohne Zugangsdaten.',
    webhookForbidden: 'Die Adresse muss öffentlich sein, oder ein Name, der nur zu öffentlichen Adressen führt.',
    keysTitle: 'API-Schlüssel',
    keysIntro: 'Die Zugangsdaten, mit denen Ihre Anwendungen den Dienst aufrufen.',
    keysCaption: 'Zugangsdaten',
    keyName: 'Name',
    keyKind: 'Art',
    keyHint: 'Beginnt mit',
    created: 'Erstellt',
    lastUsed: 'Zuletzt benutzt',
    state: 'Zustand',
    actions: 'Aktionen',
    never: 'Nie',
    kinds: { api_key: 'API-Schlüssel', tls_client_certificate: 'Client-Zertifikat' },
    states: { active: 'Aktiv', revoked: 'Widerrufen', expired: 'Abgelaufen' },
    newKey: 'Neuer API-Schlüssel',
    keyNameHint: 'Buchstaben, Ziffern, Leerzeichen, „.“, „_“ oder „-“; höchstens 100.',
    create: 'Schlüssel erstellen',
    keyCreatedTitle: 'Neuer API-Schlüssel',
    keyOnce: 'Kopieren Sie den Schlüssel jetzt: Er wird nur dieses eine Mal angezeigt und kann nicht erneut angezeigt werden.',
    keyLabel: 'API-Schlüssel',
    keyInvalid: 'Der Name muss aus 1 bis 100 Buchstaben, Ziffern, Leerzeichen, „.“, „_“ oder „-“ bestehen.',
    revoke: 'Widerrufen',
    revokeTitle: 'Zugangsdaten widerrufen',
    revokeText: 'Anwendungen, die diese Zugangsdaten verwenden, werden sofort abgewiesen. Dies kann nicht rückgängig gemacht werden.',
    revokeConfirm: 'Ja, widerrufen',
    cancel: 'Abbrechen',
    keyRevoked: 'Die Zugangsdaten sind widerrufen.',
    backToKeys: 'Zurück zu den API-Schlüsseln',
  },
};
