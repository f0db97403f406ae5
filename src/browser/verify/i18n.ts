/**
 * The verification page's words in nl, fr, de and en: the page's own text, the indications
 * and a name for every line of the report (the line's code and the verifier's detail are shown
 * beside it, as the CLI prints them). Typed so that a missing translation fails typecheck.
 */
import type { AuditCheckName, Indication } from '../../audit/index.js';

export type Lang = 'nl' | 'fr' | 'de' | 'en';
export const LANGS: readonly Lang[] = ['nl', 'fr', 'de', 'en'];

export interface PageText {
  skip: string;
  /** the service's name, in the page's header as on the other pages */
  service: string;
  language: string;
  title: string;
  intro: string;
  filesHeading: string;
  dropHint: string;
  proofLabel: string;
  documentsLabel: string;
  anchorsLabel: string;
  resultHeading: string;
  noProof: string;
  verifying: string;
  publishedHeading: string;
  publishedIntro: string;
  noPublished: string;
  subject: string;
  fingerprint: string;
  indication: Record<Indication, string>;
  subIndication: string;
  summaryHeading: string;
  checksHeading: string;
  anchorsUsedHeading: string;
  anchorsUsedPublished: string;
  anchorsUsedOwn: string;
  check: string;
  outcome: string;
  detail: string;
  passed: string;
  failed: string;
  file: string;
  sealedBy: string;
  signingTime: string;
  genTime: string;
  tsa: string;
  evidenceType: string;
  messageId: string;
  documentsListed: string;
  noDocumentsGiven: string;
  anchorsInvalid: string;
  error: string;
  checks: Record<AuditCheckName, string>;
}

export const TEXT: Record<Lang, PageText> = {
  en: {
    skip: 'Skip to the content',
    service: 'Registered electronic mail',
    language: 'Language',
    title: 'Verify a proof',
    intro: 'Check a proof of this registered electronic mail service, and the documents it names, in this browser. Nothing you choose leaves your computer: the page makes no request, and it works saved to disk and opened offline.',
    filesHeading: 'Files',
    dropHint: 'Drop the proof (.p7s), its documents and, if you wish, your own trust anchors (.pem, .crt, .cer) here, or choose them:',
    proofLabel: 'Proof (.p7s, as the service serves it)',
    documentsLabel: 'Documents the proof names (optional)',
    anchorsLabel: 'Your own trust anchors (optional; PEM or DER root certificates)',
    resultHeading: 'Result',
    noProof: 'Choose a proof to verify it.',
    verifying: 'Verifying…',
    publishedHeading: 'Published trust anchors',
    publishedIntro: "The service's sealing and time-stamping roots, as this page was served with them. A proof is checked against them unless you choose your own.",
    noPublished: 'This page carries no published trust anchor: choose your own.',
    subject: 'Subject',
    fingerprint: 'SHA-256 fingerprint',
    indication: { TOTAL_PASSED: 'Valid (TOTAL_PASSED)', TOTAL_FAILED: 'Not valid (TOTAL_FAILED)', INDETERMINATE: 'Cannot be decided (INDETERMINATE)' },
    subIndication: 'Sub-indication',
    summaryHeading: 'What the proof says',
    checksHeading: 'Checks, one by one',
    anchorsUsedHeading: 'Trust anchors used',
    anchorsUsedPublished: 'The published trust anchors of this page.',
    anchorsUsedOwn: 'Your own trust anchors.',
    check: 'Check',
    outcome: 'Outcome',
    detail: 'Detail',
    passed: 'passed',
    failed: 'failed',
    file: 'Proof file',
    sealedBy: 'Sealed by',
    signingTime: 'Signing time',
    genTime: 'Time-stamp (genTime)',
    tsa: 'Time-stamping authority',
    evidenceType: 'Evidence',
    messageId: 'Message',
    documentsListed: 'Documents listed',
    noDocumentsGiven: 'No document was given: the documents themselves are not checked.',
    anchorsInvalid: 'A trust anchor file was refused',
    error: 'The verification stopped',
    checks: {
      DER_ENCODING: 'DER encoding',
      CMS_STRUCTURE: 'CMS structure',
      CMS_VERSION: 'CMS versions',
      CMS_ALGORITHMS: 'Algorithms',
      SIGNED_ATTRIBUTES: 'Signed attributes',
      SIGNING_CERTIFICATE: 'Signing certificate',
      SIGNING_CERTIFICATE_V2_BINDING: 'Signing certificate binding',
      MESSAGE_DIGEST: 'Message digest',
      SIGNATURE: 'Signature value',
      CERTIFICATE_CHAIN: 'Certificate chain',
      REVOCATION: 'Revocation',
      TIMESTAMP_PRESENT: 'Time-stamp present',
      TIMESTAMP_VERSION: 'Time-stamp version',
      TIMESTAMP_ALGORITHMS: 'Time-stamp algorithms',
      TIMESTAMP_SIGNATURE: 'Time-stamp signature',
      TIMESTAMP_ESS_BINDING: 'Time-stamp certificate binding',
      TSA_CERTIFICATE_USAGE: 'TSA certificate usage',
      TSA_CERTIFICATE_CHAIN: 'TSA certificate chain',
      TSA_REVOCATION: 'TSA revocation',
      TIMESTAMP_IMPRINT: 'Time-stamp imprint',
      TIMESTAMP_ORDER: 'Time-stamp order',
      STATEMENT_SCHEMA: 'Evidence statement',
      STATEMENT_COPY: 'Statement copy',
      DOCUMENT_DIGEST: 'Document digest',
      EVIDENCE_RECORD: 'Evidence record',
    },
  },
  nl: {
    skip: 'Naar de inhoud',
    service: 'Aangetekende elektronische post',
    language: 'Taal',
    title: 'Een bewijs controleren',
    intro: 'Controleer een bewijs van deze dienst voor elektronisch aangetekende zendingen, en de documenten die het noemt, in deze browser. Niets wat u kiest verlaat uw computer: de pagina doet geen enkel verzoek en werkt ook opgeslagen en offline geopend.',
    filesHeading: 'Bestanden',
    dropHint: 'Sleep het bewijs (.p7s), de documenten en desgewenst uw eigen vertrouwensankers (.pem, .crt, .cer) hierheen, of kies ze:',
    proofLabel: 'Bewijs (.p7s, zoals de dienst het levert)',
    documentsLabel: 'Documenten die het bewijs noemt (optioneel)',
    anchorsLabel: 'Uw eigen vertrouwensankers (optioneel; rootcertificaten in PEM of DER)',
    resultHeading: 'Resultaat',
    noProof: 'Kies een bewijs om het te controleren.',
    verifying: 'Bezig met controleren…',
    publishedHeading: 'Gepubliceerde vertrouwensankers',
    publishedIntro: 'De rootcertificaten voor verzegeling en tijdstempels van de dienst, zoals deze pagina ermee werd geleverd. Een bewijs wordt ertegen gecontroleerd, tenzij u uw eigen kiest.',
    noPublished: 'Deze pagina bevat geen gepubliceerd vertrouwensanker: kies uw eigen.',
    subject: 'Onderwerp',
    fingerprint: 'SHA-256-vingerafdruk',
    indication: { TOTAL_PASSED: 'Geldig (TOTAL_PASSED)', TOTAL_FAILED: 'Niet geldig (TOTAL_FAILED)', INDETERMINATE: 'Niet te beslissen (INDETERMINATE)' },
    subIndication: 'Subindicatie',
    summaryHeading: 'Wat het bewijs zegt',
    checksHeading: 'Controles, één voor één',
    anchorsUsedHeading: 'Gebruikte vertrouwensankers',
    anchorsUsedPublished: 'De gepubliceerde vertrouwensankers van deze pagina.',
    anchorsUsedOwn: 'Uw eigen vertrouwensankers.',
    check: 'Controle',
    outcome: 'Uitkomst',
    detail: 'Toelichting',
    passed: 'geslaagd',
    failed: 'mislukt',
    file: 'Bewijsbestand',
    sealedBy: 'Verzegeld door',
    signingTime: 'Tijdstip van ondertekening',
    genTime: 'Tijdstempel (genTime)',
    tsa: 'Tijdstempeldienst',
    evidenceType: 'Bewijsstuk',
    messageId: 'Zending',
    documentsListed: 'Vermelde documenten',
    noDocumentsGiven: 'Er werd geen document gegeven: de documenten zelf zijn niet gecontroleerd.',
    anchorsInvalid: 'Een bestand met vertrouwensankers werd geweigerd',
    error: 'De controle is gestopt',
    checks: {
      DER_ENCODING: 'DER-codering',
      CMS_STRUCTURE: 'CMS-structuur',
      CMS_VERSION: 'CMS-versies',
      CMS_ALGORITHMS: 'Algoritmen',
      SIGNED_ATTRIBUTES: 'Ondertekende attributen',
      SIGNING_CERTIFICATE: 'Ondertekeningscertificaat',
      SIGNING_CERTIFICATE_V2_BINDING: 'Binding van het ondertekeningscertificaat',
      MESSAGE_DIGEST: 'Berichtdigest',
      SIGNATURE: 'Handtekeningwaarde',
      CERTIFICATE_CHAIN: 'Certificaatketen',
      REVOCATION: 'Intrekking',
      TIMESTAMP_PRESENT: 'Tijdstempel aanwezig',
      TIMESTAMP_VERSION: 'Versie van de tijdstempel',
      TIMESTAMP_ALGORITHMS: 'Algoritmen van de tijdstempel',
      TIMESTAMP_SIGNATURE: 'Handtekening van de tijdstempel',
      TIMESTAMP_ESS_BINDING: 'Certificaatbinding van de tijdstempel',
      TSA_CERTIFICATE_USAGE: 'Gebruik van het TSA-certificaat',
      TSA_CERTIFICATE_CHAIN: 'Certificaatketen van de TSA',
      TSA_REVOCATION: 'Intrekking bij de TSA',
      TIMESTAMP_IMPRINT: 'Afdruk in de tijdstempel',
      TIMESTAMP_ORDER: 'Volgorde van de tijdstippen',
      STATEMENT_SCHEMA: 'Bewijsverklaring',
      STATEMENT_COPY: 'Kopie van de verklaring',
      DOCUMENT_DIGEST: 'Digest van het document',
      EVIDENCE_RECORD: 'Bewijsarchief (evidence record)',
    },
  },
  fr: {
    skip: 'Aller au contenu',
    service: 'Courrier électronique recommandé',
    language: 'Langue',
    title: 'Vérifier une preuve',
    intro: 'Vérifiez une preuve de ce service d’envoi recommandé électronique, et les documents qu’elle nomme, dans ce navigateur. Rien de ce que vous choisissez ne quitte votre ordinateur : la page n’envoie aucune requête et fonctionne aussi enregistrée et ouverte hors ligne.',
    filesHeading: 'Fichiers',
    dropHint: 'Déposez ici la preuve (.p7s), ses documents et, si vous le souhaitez, vos propres ancres de confiance (.pem, .crt, .cer), ou choisissez-les :',
    proofLabel: 'Preuve (.p7s, telle que le service la fournit)',
    documentsLabel: 'Documents que la preuve nomme (facultatif)',
    anchorsLabel: 'Vos propres ancres de confiance (facultatif ; certificats racines PEM ou DER)',
    resultHeading: 'Résultat',
    noProof: 'Choisissez une preuve pour la vérifier.',
    verifying: 'Vérification en cours…',
    publishedHeading: 'Ancres de confiance publiées',
    publishedIntro: 'Les racines de scellement et d’horodatage du service, telles que cette page les a reçues. Une preuve est vérifiée avec elles, sauf si vous choisissez les vôtres.',
    noPublished: 'Cette page ne contient aucune ancre de confiance publiée : choisissez les vôtres.',
    subject: 'Sujet',
    fingerprint: 'Empreinte SHA-256',
    indication: { TOTAL_PASSED: 'Valide (TOTAL_PASSED)', TOTAL_FAILED: 'Non valide (TOTAL_FAILED)', INDETERMINATE: 'Indéterminé (INDETERMINATE)' },
    subIndication: 'Sous-indication',
    summaryHeading: 'Ce que dit la preuve',
    checksHeading: 'Contrôles, un par un',
    anchorsUsedHeading: 'Ancres de confiance utilisées',
    anchorsUsedPublished: 'Les ancres de confiance publiées de cette page.',
    anchorsUsedOwn: 'Vos propres ancres de confiance.',
    check: 'Contrôle',
    outcome: 'Résultat',
    detail: 'Détail',
    passed: 'réussi',
    failed: 'échoué',
    file: 'Fichier de preuve',
    sealedBy: 'Scellé par',
    signingTime: 'Heure de signature',
    genTime: 'Horodatage (genTime)',
    tsa: 'Autorité d’horodatage',
    evidenceType: 'Preuve',
    messageId: 'Envoi',
    documentsListed: 'Documents mentionnés',
    noDocumentsGiven: 'Aucun document n’a été donné : les documents eux-mêmes ne sont pas vérifiés.',
    anchorsInvalid: 'Un fichier d’ancres de confiance a été refusé',
    error: 'La vérification s’est arrêtée',
    checks: {
      DER_ENCODING: 'Encodage DER',
      CMS_STRUCTURE: 'Structure CMS',
      CMS_VERSION: 'Versions CMS',
      CMS_ALGORITHMS: 'Algorithmes',
      SIGNED_ATTRIBUTES: 'Attributs signés',
      SIGNING_CERTIFICATE: 'Certificat de signature',
      SIGNING_CERTIFICATE_V2_BINDING: 'Lien avec le certificat de signature',
      MESSAGE_DIGEST: 'Condensé du message',
      SIGNATURE: 'Valeur de la signature',
      CERTIFICATE_CHAIN: 'Chaîne de certificats',
      REVOCATION: 'Révocation',
      TIMESTAMP_PRESENT: 'Horodatage présent',
      TIMESTAMP_VERSION: 'Version de l’horodatage',
      TIMESTAMP_ALGORITHMS: 'Algorithmes de l’horodatage',
      TIMESTAMP_SIGNATURE: 'Signature de l’horodatage',
      TIMESTAMP_ESS_BINDING: 'Lien de l’horodatage avec son certificat',
      TSA_CERTIFICATE_USAGE: 'Usage du certificat de la TSA',
      TSA_CERTIFICATE_CHAIN: 'Chaîne de certificats de la TSA',
      TSA_REVOCATION: 'Révocation de la TSA',
      TIMESTAMP_IMPRINT: 'Empreinte horodatée',
      TIMESTAMP_ORDER: 'Ordre des heures',
      STATEMENT_SCHEMA: 'Déclaration de preuve',
      STATEMENT_COPY: 'Copie de la déclaration',
      DOCUMENT_DIGEST: 'Condensé du document',
      EVIDENCE_RECORD: 'Enregistrement de preuve (evidence record)',
    },
  },
  de: {
    skip: 'Zum Inhalt',
    service: 'Elektronisches Einschreiben',
    language: 'Sprache',
    title: 'Einen Nachweis prüfen',
    intro: 'Prüfen Sie einen Nachweis dieses Dienstes für elektronische Einschreiben und die darin genannten Dokumente in diesem Browser. Nichts, was Sie auswählen, verlässt Ihren Computer: Die Seite stellt keine Anfrage und funktioniert auch gespeichert und offline geöffnet.',
    filesHeading: 'Dateien',
    dropHint: 'Legen Sie den Nachweis (.p7s), seine Dokumente und auf Wunsch eigene Vertrauensanker (.pem, .crt, .cer) hier ab, oder wählen Sie sie aus:',
    proofLabel: 'Nachweis (.p7s, wie der Dienst ihn liefert)',
    documentsLabel: 'Im Nachweis genannte Dokumente (optional)',
    anchorsLabel: 'Eigene Vertrauensanker (optional; Wurzelzertifikate in PEM oder DER)',
    resultHeading: 'Ergebnis',
    noProof: 'Wählen Sie einen Nachweis, um ihn zu prüfen.',
    verifying: 'Wird geprüft…',
    publishedHeading: 'Veröffentlichte Vertrauensanker',
    publishedIntro: 'Die Wurzeln des Dienstes für Siegel und Zeitstempel, so wie diese Seite mit ihnen ausgeliefert wurde. Ein Nachweis wird gegen sie geprüft, sofern Sie keine eigenen wählen.',
    noPublished: 'Diese Seite enthält keinen veröffentlichten Vertrauensanker: Wählen Sie eigene.',
    subject: 'Inhaber',
    fingerprint: 'SHA-256-Fingerabdruck',
    indication: { TOTAL_PASSED: 'Gültig (TOTAL_PASSED)', TOTAL_FAILED: 'Ungültig (TOTAL_FAILED)', INDETERMINATE: 'Nicht entscheidbar (INDETERMINATE)' },
    subIndication: 'Unterindikation',
    summaryHeading: 'Was der Nachweis besagt',
    checksHeading: 'Prüfungen, einzeln',
    anchorsUsedHeading: 'Verwendete Vertrauensanker',
    anchorsUsedPublished: 'Die veröffentlichten Vertrauensanker dieser Seite.',
    anchorsUsedOwn: 'Ihre eigenen Vertrauensanker.',
    check: 'Prüfung',
    outcome: 'Ergebnis',
    detail: 'Einzelheiten',
    passed: 'bestanden',
    failed: 'nicht bestanden',
    file: 'Nachweisdatei',
    sealedBy: 'Versiegelt von',
    signingTime: 'Signaturzeitpunkt',
    genTime: 'Zeitstempel (genTime)',
    tsa: 'Zeitstempeldienst',
    evidenceType: 'Nachweisart',
    messageId: 'Sendung',
    documentsListed: 'Aufgeführte Dokumente',
    noDocumentsGiven: 'Kein Dokument angegeben: Die Dokumente selbst werden nicht geprüft.',
    anchorsInvalid: 'Eine Datei mit Vertrauensankern wurde abgelehnt',
    error: 'Die Prüfung wurde abgebrochen',
    checks: {
      DER_ENCODING: 'DER-Kodierung',
      CMS_STRUCTURE: 'CMS-Struktur',
      CMS_VERSION: 'CMS-Versionen',
      CMS_ALGORITHMS: 'Algorithmen',
      SIGNED_ATTRIBUTES: 'Signierte Attribute',
      SIGNING_CERTIFICATE: 'Signaturzertifikat',
      SIGNING_CERTIFICATE_V2_BINDING: 'Bindung an das Signaturzertifikat',
      MESSAGE_DIGEST: 'Nachrichtenhashwert',
      SIGNATURE: 'Signaturwert',
      CERTIFICATE_CHAIN: 'Zertifikatskette',
      REVOCATION: 'Widerruf',
      TIMESTAMP_PRESENT: 'Zeitstempel vorhanden',
      TIMESTAMP_VERSION: 'Version des Zeitstempels',
      TIMESTAMP_ALGORITHMS: 'Algorithmen des Zeitstempels',
      TIMESTAMP_SIGNATURE: 'Signatur des Zeitstempels',
      TIMESTAMP_ESS_BINDING: 'Zertifikatsbindung des Zeitstempels',
      TSA_CERTIFICATE_USAGE: 'Verwendung des TSA-Zertifikats',
      TSA_CERTIFICATE_CHAIN: 'Zertifikatskette der TSA',
      TSA_REVOCATION: 'Widerruf bei der TSA',
      TIMESTAMP_IMPRINT: 'Hashwert im Zeitstempel',
      TIMESTAMP_ORDER: 'Reihenfolge der Zeitpunkte',
      STATEMENT_SCHEMA: 'Nachweiserklärung',
      STATEMENT_COPY: 'Kopie der Erklärung',
      DOCUMENT_DIGEST: 'Hashwert des Dokuments',
      EVIDENCE_RECORD: 'Beweisdatensatz (Evidence Record)',
    },
  },
};

/** The reader's language: the first of the browser's languages the page speaks, else en. */
export function browserLang(languages: readonly string[]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0] as Lang;
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}
