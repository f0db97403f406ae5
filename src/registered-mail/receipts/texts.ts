/**
 * The words of a receipt in nl, fr, de and en: what each kind of evidence means, the labels,
 * and how to check the receipt and its proof. Data only; layout.ts places them.
 */
import type { EvidenceType, Language } from '../../domain/EvidenceStatement.js';

export interface EventWords {
  /** The event in words: the receipt's title. */
  title: string;
  /** One sentence saying what the issuer certifies. */
  meaning: string;
}

export interface ReceiptTexts {
  /** BCP 47 tag for numbers and the PDF's /Lang. */
  locale: string;
  heading: string;
  events: Record<EvidenceType, EventWords>;
  parties: string;
  issuer: string;
  policy: string;
  sender: string;
  senderReference: string;
  recipient: string;
  citizen: string;
  enterprise: string;
  subject: string;
  /** shown when the subject is not given in the receipt's language */
  subjectOtherLanguages: string;
  message: string;
  submitted: string;
  eventTime: string;
  brusselsTime: string;
  utc: string;
  reasons: string;
  /** NotificationForAcceptance: how the recipient was told */
  notification: string;
  notificationId: string;
  channels: { GOVAPP: string; SMS: string };
  addressDigest: string;
  documents: string;
  noDocuments: string;
  mainDocument: string;
  bytes: string;
  evidence: string;
  evidenceId: string;
  proofFile: string;
  proofDigest: string;
  timeStamp: string;
  previousProof: string;
  noPreviousProof: string;
  howToVerify: string;
  verifyPdf: string;
  verifyProof: string;
  /** the commands, with {proof} for the attached file's name */
  verifyCommands: string[];
  page: (n: number, of: number) => string;
  attachmentDescription: string;
}

/** The same in every language: commands are not translated. */
const VERIFY_COMMANDS = ['rm-verify {proof} --trust root.pem', 'openssl cms -verify -cades -inform DER -in {proof} -CAfile root.pem'];

export const RECEIPT_TEXTS: Record<Language, ReceiptTexts> = {
  en: {
    locale: 'en-GB',
    heading: 'Registered electronic mail — receipt',
    events: {
      SubmissionAcceptance: { title: 'Proof of dispatch', meaning: 'The issuer certifies that it accepted this registered message from the sender, with the documents listed below, at the time below.' },
      SubmissionRejection: { title: 'Proof of rejection of a submission', meaning: 'The issuer certifies that it refused this message from the sender at the time below, for the reasons given.' },
      ContentConsignment: { title: 'Proof of delivery to the e-Box', meaning: "The issuer certifies that this registered message was placed in the recipient's e-Box at the time below." },
      ContentConsignmentFailure: { title: 'Proof of failed delivery', meaning: "The issuer certifies that this registered message could not be placed in the recipient's e-Box, for the reasons given." },
      ContentHandover: { title: 'Proof of receipt', meaning: 'The issuer certifies that the recipient opened this registered message (its documents were handed over) at the time below.' },
      ContentHandoverFailure: { title: 'Proof of non-receipt', meaning: 'The issuer certifies that the recipient did not open this registered message before it expired.' },
      NotificationForAcceptance: { title: 'Proof of notification', meaning: 'The issuer certifies that the recipient was told of this registered message at the time below.' },
    },
    parties: 'Parties',
    issuer: 'Issued by',
    policy: 'Policy',
    sender: 'Sender',
    senderReference: "Sender's reference",
    recipient: 'Recipient',
    citizen: 'citizen, national number (INSZ)',
    enterprise: 'enterprise, company number (KBO)',
    subject: 'Subject',
    subjectOtherLanguages: 'Subject (as given by the sender)',
    message: 'Message',
    submitted: 'Submitted',
    eventTime: 'Time of the event',
    brusselsTime: 'Brussels time',
    utc: 'UTC',
    reasons: 'Reasons',
    notification: 'How the recipient was told',
    notificationId: 'Notification',
    channels: { GOVAPP: 'push to the GovApp app', SMS: 'SMS' },
    addressDigest: 'address (keyed digest)',
    documents: 'Documents',
    noDocuments: 'No documents.',
    mainDocument: 'main document',
    bytes: 'bytes',
    evidence: 'The evidence',
    evidenceId: 'Evidence identifier',
    proofFile: 'Proof (attached to this PDF)',
    proofDigest: 'SHA-256 of the proof',
    timeStamp: 'Proof time-stamped at',
    previousProof: 'Previous proof of this message (SHA-256)',
    noPreviousProof: 'none: this is the first proof of the message',
    howToVerify: 'How to verify',
    verifyPdf: 'This PDF is sealed by the issuer (PAdES signature with a time-stamp): a PDF reader shows whether the seal is valid and the file unchanged.',
    verifyProof:
      'The legally binding evidence is the proof attached to this PDF (see the reader\u2019s attachments). This page is a readable copy of what it states. Check the proof with the issuer\u2019s verifier or with OpenSSL, against the issuer\u2019s published root certificate:',
    verifyCommands: VERIFY_COMMANDS,
    page: (n, of) => `Page ${n} of ${of}`,
    attachmentDescription: 'The proof (CAdES-T, DER) this receipt shows in words',
  },
  nl: {
    locale: 'nl-BE',
    heading: 'Aangetekende elektronische zending — ontvangstbewijs',
    events: {
      SubmissionAcceptance: { title: 'Bewijs van verzending', meaning: 'De uitgever verklaart dat hij deze aangetekende zending met de hieronder vermelde documenten van de afzender heeft aanvaard op het hieronder vermelde tijdstip.' },
      SubmissionRejection: { title: 'Bewijs van weigering van een zending', meaning: 'De uitgever verklaart dat hij deze zending van de afzender heeft geweigerd op het hieronder vermelde tijdstip, om de vermelde redenen.' },
      ContentConsignment: { title: 'Bewijs van aflevering in de e-Box', meaning: 'De uitgever verklaart dat deze aangetekende zending in de e-Box van de bestemmeling werd geplaatst op het hieronder vermelde tijdstip.' },
      ContentConsignmentFailure: { title: 'Bewijs van mislukte aflevering', meaning: 'De uitgever verklaart dat deze aangetekende zending niet in de e-Box van de bestemmeling kon worden geplaatst, om de vermelde redenen.' },
      ContentHandover: { title: 'Bewijs van ontvangst', meaning: 'De uitgever verklaart dat de bestemmeling deze aangetekende zending heeft geopend (de documenten werden overhandigd) op het hieronder vermelde tijdstip.' },
      ContentHandoverFailure: { title: 'Bewijs van niet-ontvangst', meaning: 'De uitgever verklaart dat de bestemmeling deze aangetekende zending niet heeft geopend voordat ze verviel.' },
      NotificationForAcceptance: { title: 'Bewijs van kennisgeving', meaning: 'De uitgever verklaart dat de bestemmeling op het hieronder vermelde tijdstip van deze aangetekende zending op de hoogte werd gebracht.' },
    },
    parties: 'Partijen',
    issuer: 'Uitgegeven door',
    policy: 'Beleid',
    sender: 'Afzender',
    senderReference: 'Referentie van de afzender',
    recipient: 'Bestemmeling',
    citizen: 'burger, rijksregisternummer (INSZ)',
    enterprise: 'onderneming, ondernemingsnummer (KBO)',
    subject: 'Onderwerp',
    subjectOtherLanguages: 'Onderwerp (zoals de afzender het opgaf)',
    message: 'Zending',
    submitted: 'Ingediend',
    eventTime: 'Tijdstip van de gebeurtenis',
    brusselsTime: 'Brusselse tijd',
    utc: 'UTC',
    reasons: 'Redenen',
    notification: 'Hoe de bestemmeling werd verwittigd',
    notificationId: 'Bericht',
    channels: { GOVAPP: 'pushbericht naar de GovApp-app', SMS: 'sms' },
    addressDigest: 'adres (digest met sleutel)',
    documents: 'Documenten',
    noDocuments: 'Geen documenten.',
    mainDocument: 'hoofddocument',
    bytes: 'bytes',
    evidence: 'Het bewijs',
    evidenceId: 'Kenmerk van het bewijs',
    proofFile: 'Bewijs (bijgevoegd bij deze PDF)',
    proofDigest: 'SHA-256 van het bewijs',
    timeStamp: 'Bewijs van een tijdstempel voorzien op',
    previousProof: 'Vorig bewijs van deze zending (SHA-256)',
    noPreviousProof: 'geen: dit is het eerste bewijs van de zending',
    howToVerify: 'Hoe controleren',
    verifyPdf: 'Deze PDF is verzegeld door de uitgever (PAdES-handtekening met tijdstempel): een PDF-lezer toont of de zegel geldig is en het bestand ongewijzigd.',
    verifyProof:
      'Het juridisch bindende bewijs is het bij deze PDF gevoegde bewijs (zie de bijlagen in de lezer). Deze pagina is een leesbare weergave van wat het vermeldt. Controleer het bewijs met de verificatietool van de uitgever of met OpenSSL, tegen het gepubliceerde basiscertificaat van de uitgever:',
    verifyCommands: VERIFY_COMMANDS,
    page: (n, of) => `Pagina ${n} van ${of}`,
    attachmentDescription: 'Het bewijs (CAdES-T, DER) dat dit ontvangstbewijs in woorden weergeeft',
  },
  fr: {
    locale: 'fr-BE',
    heading: 'Envoi recommandé électronique — accusé',
    events: {
      SubmissionAcceptance: { title: 'Preuve d\u2019envoi', meaning: 'L\u2019émetteur certifie avoir accepté cet envoi recommandé de l\u2019expéditeur, avec les documents ci-dessous, au moment indiqué ci-dessous.' },
      SubmissionRejection: { title: 'Preuve de refus d\u2019un envoi', meaning: 'L\u2019émetteur certifie avoir refusé cet envoi de l\u2019expéditeur au moment indiqué ci-dessous, pour les raisons données.' },
      ContentConsignment: { title: 'Preuve de dépôt dans l\u2019e-Box', meaning: 'L\u2019émetteur certifie que cet envoi recommandé a été déposé dans l\u2019e-Box du destinataire au moment indiqué ci-dessous.' },
      ContentConsignmentFailure: { title: 'Preuve d\u2019échec du dépôt', meaning: 'L\u2019émetteur certifie que cet envoi recommandé n\u2019a pas pu être déposé dans l\u2019e-Box du destinataire, pour les raisons données.' },
      ContentHandover: { title: 'Preuve de réception', meaning: 'L\u2019émetteur certifie que le destinataire a ouvert cet envoi recommandé (ses documents lui ont été remis) au moment indiqué ci-dessous.' },
      ContentHandoverFailure: { title: 'Preuve de non-réception', meaning: 'L\u2019émetteur certifie que le destinataire n\u2019a pas ouvert cet envoi recommandé avant son expiration.' },
      NotificationForAcceptance: { title: 'Preuve de notification', meaning: 'L\u2019émetteur certifie que le destinataire a été averti de cet envoi recommandé au moment indiqué ci-dessous.' },
    },
    parties: 'Parties',
    issuer: 'Émis par',
    policy: 'Politique',
    sender: 'Expéditeur',
    senderReference: 'Référence de l\u2019expéditeur',
    recipient: 'Destinataire',
    citizen: 'citoyen, numéro de registre national (NISS)',
    enterprise: 'entreprise, numéro d\u2019entreprise (BCE)',
    subject: 'Objet',
    subjectOtherLanguages: 'Objet (tel que donné par l\u2019expéditeur)',
    message: 'Envoi',
    submitted: 'Déposé',
    eventTime: 'Moment de l\u2019événement',
    brusselsTime: 'heure de Bruxelles',
    utc: 'UTC',
    reasons: 'Raisons',
    notification: 'Comment le destinataire a été averti',
    notificationId: 'Notification',
    channels: { GOVAPP: 'notification push vers l\u2019app GovApp', SMS: 'SMS' },
    addressDigest: 'adresse (empreinte à clé)',
    documents: 'Documents',
    noDocuments: 'Aucun document.',
    mainDocument: 'document principal',
    bytes: 'octets',
    evidence: 'La preuve',
    evidenceId: 'Identifiant de la preuve',
    proofFile: 'Preuve (jointe à ce PDF)',
    proofDigest: 'SHA-256 de la preuve',
    timeStamp: 'Preuve horodatée le',
    previousProof: 'Preuve précédente de cet envoi (SHA-256)',
    noPreviousProof: 'aucune : c\u2019est la première preuve de l\u2019envoi',
    howToVerify: 'Comment vérifier',
    verifyPdf: 'Ce PDF est scellé par l\u2019émetteur (signature PAdES avec horodatage) : un lecteur PDF indique si le sceau est valide et le fichier inchangé.',
    verifyProof:
      'La preuve juridiquement contraignante est celle jointe à ce PDF (voir les pièces jointes du lecteur). Cette page en est une copie lisible. Vérifiez la preuve avec l\u2019outil de vérification de l\u2019émetteur ou avec OpenSSL, avec le certificat racine publié par l\u2019émetteur :',
    verifyCommands: VERIFY_COMMANDS,
    page: (n, of) => `Page ${n} sur ${of}`,
    attachmentDescription: 'La preuve (CAdES-T, DER) que cet accusé présente en mots',
  },
  de: {
    locale: 'de-BE',
    heading: 'Elektronisches Einschreiben — Empfangsbestätigung',
    events: {
      SubmissionAcceptance: { title: 'Versandnachweis', meaning: 'Der Aussteller bestätigt, dass er dieses Einschreiben mit den unten aufgeführten Dokumenten vom Absender zum unten genannten Zeitpunkt angenommen hat.' },
      SubmissionRejection: { title: 'Nachweis der Zurückweisung einer Einlieferung', meaning: 'Der Aussteller bestätigt, dass er diese Sendung des Absenders zum unten genannten Zeitpunkt aus den angegebenen Gründen zurückgewiesen hat.' },
      ContentConsignment: { title: 'Nachweis der Zustellung in die e-Box', meaning: 'Der Aussteller bestätigt, dass dieses Einschreiben zum unten genannten Zeitpunkt in die e-Box des Empfängers gelegt wurde.' },
      ContentConsignmentFailure: { title: 'Nachweis der gescheiterten Zustellung', meaning: 'Der Aussteller bestätigt, dass dieses Einschreiben aus den angegebenen Gründen nicht in die e-Box des Empfängers gelegt werden konnte.' },
      ContentHandover: { title: 'Empfangsnachweis', meaning: 'Der Aussteller bestätigt, dass der Empfänger dieses Einschreiben zum unten genannten Zeitpunkt geöffnet hat (die Dokumente wurden ihm übergeben).' },
      ContentHandoverFailure: { title: 'Nachweis der Nichtabholung', meaning: 'Der Aussteller bestätigt, dass der Empfänger dieses Einschreiben vor seinem Ablauf nicht geöffnet hat.' },
      NotificationForAcceptance: { title: 'Benachrichtigungsnachweis', meaning: 'Der Aussteller bestätigt, dass der Empfänger zum unten genannten Zeitpunkt über dieses Einschreiben benachrichtigt wurde.' },
    },
    parties: 'Beteiligte',
    issuer: 'Ausgestellt von',
    policy: 'Richtlinie',
    sender: 'Absender',
    senderReference: 'Zeichen des Absenders',
    recipient: 'Empfänger',
    citizen: 'Bürger, Nationalregisternummer (INSZ)',
    enterprise: 'Unternehmen, Unternehmensnummer (ZDU)',
    subject: 'Betreff',
    subjectOtherLanguages: 'Betreff (wie vom Absender angegeben)',
    message: 'Sendung',
    submitted: 'Eingeliefert',
    eventTime: 'Zeitpunkt des Ereignisses',
    brusselsTime: 'Brüsseler Zeit',
    utc: 'UTC',
    reasons: 'Gründe',
    notification: 'Wie der Empfänger benachrichtigt wurde',
    notificationId: 'Benachrichtigung',
    channels: { GOVAPP: 'Push-Nachricht an die GovApp', SMS: 'SMS' },
    addressDigest: 'Adresse (Digest mit Schlüssel)',
    documents: 'Dokumente',
    noDocuments: 'Keine Dokumente.',
    mainDocument: 'Hauptdokument',
    bytes: 'Byte',
    evidence: 'Der Nachweis',
    evidenceId: 'Kennung des Nachweises',
    proofFile: 'Nachweis (an dieses PDF angehängt)',
    proofDigest: 'SHA-256 des Nachweises',
    timeStamp: 'Nachweis mit Zeitstempel versehen am',
    previousProof: 'Vorheriger Nachweis dieser Sendung (SHA-256)',
    noPreviousProof: 'keiner: dies ist der erste Nachweis der Sendung',
    howToVerify: 'So prüfen Sie',
    verifyPdf: 'Dieses PDF ist vom Aussteller versiegelt (PAdES-Signatur mit Zeitstempel): Ein PDF-Leser zeigt, ob das Siegel gültig und die Datei unverändert ist.',
    verifyProof:
      'Rechtsverbindlich ist der an dieses PDF angehängte Nachweis (siehe die Anhänge im Leser). Diese Seite gibt seinen Inhalt lesbar wieder. Prüfen Sie den Nachweis mit dem Prüfprogramm des Ausstellers oder mit OpenSSL, gegen das veröffentlichte Wurzelzertifikat des Ausstellers:',
    verifyCommands: VERIFY_COMMANDS,
    page: (n, of) => `Seite ${n} von ${of}`,
    attachmentDescription: 'Der Nachweis (CAdES-T, DER), den diese Bestätigung in Worten wiedergibt',
  },
};
