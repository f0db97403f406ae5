/** The citizen's e-Box page (/ebox). */
import type { EvidenceType } from '../../../domain/EvidenceStatement.js';
import type { Texts } from '../i18n.js';

export interface EboxText {
  title: string;
  intro: string;
  none: string;
  noEbox: string;
  caption: string;
  subject: string;
  sender: string;
  received: string;
  state: string;
  states: Record<'new' | 'opened' | 'expired', string>;
  letterTitle: string;
  back: string;
  documents: string;
  documentName: string;
  documentType: string;
  size: string;
  download: string;
  downloadNote: string;
  purged: string;
  proofs: string;
  proofsIntro: string;
  proofType: string;
  proofTime: string;
  proofFiles: string;
  der: string;
  pdf: string;
  noProofs: string;
  expiresAt: string;
  openedAt: string;
  proofTypes: Record<EvidenceType, string>;
}

export const ebox: Texts<EboxText> = {
  en: {
    title: 'My e-Box',
    intro: 'The registered letters sent to you, newest first.',
    none: 'There are no registered letters in your e-Box.',
    noEbox: 'You have no activated e-Box here yet: letters cannot be delivered to you.',
    caption: 'Registered letters',
    subject: 'Subject',
    sender: 'Sender',
    received: 'Received',
    state: 'State',
    states: { new: 'New', opened: 'Opened', expired: 'Expired' },
    letterTitle: 'Registered letter',
    back: 'Back to my e-Box',
    documents: 'Documents',
    documentName: 'Document',
    documentType: 'Type',
    size: 'Size',
    download: 'Download',
    downloadNote: 'Downloading a document is recorded: the sender receives a proof that you received the letter.',
    purged: 'The documents were removed at the end of their retention period.',
    proofs: 'Proofs',
    proofsIntro: 'Signed and time-stamped proofs of what happened to this letter.',
    proofType: 'Proof',
    proofTime: 'Time',
    proofFiles: 'Files',
    der: 'signed proof (.p7s)',
    pdf: 'receipt (PDF)',
    noProofs: 'No proof has been made yet.',
    expiresAt: 'Available until',
    openedAt: 'Opened on',
    proofTypes: {
      SubmissionAcceptance: 'Submission accepted',
      SubmissionRejection: 'Submission rejected',
      ContentConsignment: 'Delivered to your e-Box',
      ContentConsignmentFailure: 'Delivery failed',
      ContentHandover: 'Received by you',
      ContentHandoverFailure: 'Not received in time',
      NotificationForAcceptance: 'Notification sent',
    },
  },
  nl: {
    title: 'Mijn e-Box',
    intro: 'De aangetekende brieven die u werden gestuurd, de nieuwste eerst.',
    none: 'Er zijn geen aangetekende brieven in uw e-Box.',
    noEbox: 'U hebt hier nog geen geactiveerde e-Box: brieven kunnen u niet worden bezorgd.',
    caption: 'Aangetekende brieven',
    subject: 'Onderwerp',
    sender: 'Afzender',
    received: 'Ontvangen',
    state: 'Status',
    states: { new: 'Nieuw', opened: 'Geopend', expired: 'Verlopen' },
    letterTitle: 'Aangetekende brief',
    back: 'Terug naar mijn e-Box',
    documents: 'Documenten',
    documentName: 'Document',
    documentType: 'Type',
    size: 'Grootte',
    download: 'Downloaden',
    downloadNote: 'Het downloaden van een document wordt geregistreerd: de afzender krijgt een bewijs dat u de brief hebt ontvangen.',
    purged: 'De documenten werden verwijderd aan het einde van hun bewaartermijn.',
    proofs: 'Bewijzen',
    proofsIntro: 'Ondertekende bewijzen met tijdstempel van wat er met deze brief gebeurde.',
    proofType: 'Bewijs',
    proofTime: 'Tijdstip',
    proofFiles: 'Bestanden',
    der: 'ondertekend bewijs (.p7s)',
    pdf: 'ontvangstbewijs (PDF)',
    noProofs: 'Er is nog geen bewijs gemaakt.',
    expiresAt: 'Beschikbaar tot',
    openedAt: 'Geopend op',
    proofTypes: {
      SubmissionAcceptance: 'Verzending aanvaard',
      SubmissionRejection: 'Verzending geweigerd',
      ContentConsignment: 'Bezorgd in uw e-Box',
      ContentConsignmentFailure: 'Bezorging mislukt',
      ContentHandover: 'Door u ontvangen',
      ContentHandoverFailure: 'Niet tijdig ontvangen',
      NotificationForAcceptance: 'Kennisgeving verstuurd',
    },
  },
  fr: {
    title: 'Mon e-Box',
    intro: 'Les lettres recommandées qui vous ont été envoyées, les plus récentes d’abord.',
    none: 'Il n’y a pas de lettre recommandée dans votre e-Box.',
    noEbox: 'Vous n’avez pas encore d’e-Box activé ici : les lettres ne peuvent pas vous être remises.',
    caption: 'Lettres recommandées',
    subject: 'Objet',
    sender: 'Expéditeur',
    received: 'Reçue le',
    state: 'État',
    states: { new: 'Nouvelle', opened: 'Ouverte', expired: 'Expirée' },
    letterTitle: 'Lettre recommandée',
    back: 'Retour à mon e-Box',
    documents: 'Documents',
    documentName: 'Document',
    documentType: 'Type',
    size: 'Taille',
    download: 'Télécharger',
    downloadNote: 'Le téléchargement d’un document est enregistré : l’expéditeur reçoit une preuve que vous avez reçu la lettre.',
    purged: 'Les documents ont été supprimés à la fin de leur durée de conservation.',
    proofs: 'Preuves',
    proofsIntro: 'Preuves signées et horodatées de ce qui est arrivé à cette lettre.',
    proofType: 'Preuve',
    proofTime: 'Moment',
    proofFiles: 'Fichiers',
    der: 'preuve signée (.p7s)',
    pdf: 'accusé (PDF)',
    noProofs: 'Aucune preuve n’a encore été établie.',
    expiresAt: 'Disponible jusqu’au',
    openedAt: 'Ouverte le',
    proofTypes: {
      SubmissionAcceptance: 'Envoi accepté',
      SubmissionRejection: 'Envoi refusé',
      ContentConsignment: 'Déposée dans votre e-Box',
      ContentConsignmentFailure: 'Dépôt échoué',
      ContentHandover: 'Reçue par vous',
      ContentHandoverFailure: 'Non reçue à temps',
      NotificationForAcceptance: 'Notification envoyée',
    },
  },
  de: {
    title: 'Meine e-Box',
    intro: 'Die Einschreiben, die Ihnen gesendet wurden, die neuesten zuerst.',
    none: 'In Ihrer e-Box sind keine Einschreiben.',
    noEbox: 'Sie haben hier noch keine aktivierte e-Box: Briefe können Ihnen nicht zugestellt werden.',
    caption: 'Einschreiben',
    subject: 'Betreff',
    sender: 'Absender',
    received: 'Empfangen',
    state: 'Status',
    states: { new: 'Neu', opened: 'Geöffnet', expired: 'Abgelaufen' },
    letterTitle: 'Einschreiben',
    back: 'Zurück zu meiner e-Box',
    documents: 'Dokumente',
    documentName: 'Dokument',
    documentType: 'Typ',
    size: 'Größe',
    download: 'Herunterladen',
    downloadNote: 'Das Herunterladen eines Dokuments wird festgehalten: Der Absender erhält einen Nachweis, dass Sie den Brief empfangen haben.',
    purged: 'Die Dokumente wurden am Ende ihrer Aufbewahrungsfrist entfernt.',
    proofs: 'Nachweise',
    proofsIntro: 'Signierte Nachweise mit Zeitstempel darüber, was mit diesem Brief geschah.',
    proofType: 'Nachweis',
    proofTime: 'Zeitpunkt',
    proofFiles: 'Dateien',
    der: 'signierter Nachweis (.p7s)',
    pdf: 'Beleg (PDF)',
    noProofs: 'Es wurde noch kein Nachweis erstellt.',
    expiresAt: 'Verfügbar bis',
    openedAt: 'Geöffnet am',
    proofTypes: {
      SubmissionAcceptance: 'Versand angenommen',
      SubmissionRejection: 'Versand abgelehnt',
      ContentConsignment: 'In Ihre e-Box zugestellt',
      ContentConsignmentFailure: 'Zustellung fehlgeschlagen',
      ContentHandover: 'Von Ihnen empfangen',
      ContentHandoverFailure: 'Nicht rechtzeitig empfangen',
      NotificationForAcceptance: 'Benachrichtigung gesendet',
    },
  },
};
