/** Text the layout, the landing page, sign-in and the error pages share. */
import type { Texts } from '../i18n.js';

export interface CommonText {
  languageName: string;
  skip: string;
  service: string;
  languages: string;
  signedInAs: string;
  signOut: string;
  signIn: string;
  landingTitle: string;
  landingIntro: string;
  eboxLink: string;
  eboxDescription: string;
  consoleLink: string;
  consoleDescription: string;
  verifyLink: string;
  verifyDescription: string;
  signInTitle: string;
  signInIntro: string;
  signInButton: string;
  signInUnavailable: string;
  signInFailed: string;
  notClerk: string;
  notCitizen: string;
  errorTitle: Record<'400' | '403' | '404' | '429' | '500' | '503', string>;
  errorDetail: Record<'400' | '403' | '404' | '429' | '500' | '503', string>;
  csrfRefused: string;
  backHome: string;
  reference: string;
}

export const common: Texts<CommonText> = {
  en: {
    languageName: 'English',
    skip: 'Skip to main content',
    service: 'Registered electronic mail',
    languages: 'Language',
    signedInAs: 'Signed in as',
    signOut: 'Sign out',
    signIn: 'Sign in',
    landingTitle: 'Registered electronic mail',
    landingIntro: 'Receive and send registered letters with legal proof of sending and receipt.',
    eboxLink: 'My e-Box',
    eboxDescription: 'Read the registered letters sent to you.',
    consoleLink: 'Sender console',
    consoleDescription: 'For the staff of an organisation that sends registered letters.',
    verifyLink: 'Verify a proof',
    verifyDescription: 'Check a proof of sending or receipt.',
    signInTitle: 'Sign in',
    signInIntro: 'You sign in with your identity provider. No password is kept by this service.',
    signInButton: 'Continue to sign in',
    signInUnavailable: 'Signing in is not available at the moment. Please try again later.',
    signInFailed: 'Signing in did not succeed. Please start again.',
    notClerk: 'Your account is not linked to a sender. Ask your organisation’s administrator.',
    notCitizen: 'Your identity does not carry a national register number: you have no e-Box here.',
    errorTitle: { '400': 'Bad request', '403': 'Access refused', '404': 'Page not found', '429': 'Too many attempts', '500': 'Something went wrong', '503': 'Service unavailable' },
    errorDetail: {
      '400': 'The request could not be understood.',
      '403': 'You may not do this.',
      '404': 'This page does not exist, or you may not see it.',
      '500': 'An error occurred on our side. Please try again later.',
      '429': 'Too many attempts came from your address. Please wait a few minutes and try again.',
      '503': 'The service is temporarily unavailable. Please try again later.',
    },
    csrfRefused: 'The form had expired or did not come from this site. Please try again.',
    backHome: 'Back to the home page',
    reference: 'Reference',
  },
  nl: {
    languageName: 'Nederlands',
    skip: 'Naar de hoofdinhoud',
    service: 'Aangetekende elektronische post',
    languages: 'Taal',
    signedInAs: 'Aangemeld als',
    signOut: 'Afmelden',
    signIn: 'Aanmelden',
    landingTitle: 'Aangetekende elektronische post',
    landingIntro: 'Ontvang en verstuur aangetekende brieven met wettelijk bewijs van verzending en ontvangst.',
    eboxLink: 'Mijn e-Box',
    eboxDescription: 'Lees de aangetekende brieven die u werden gestuurd.',
    consoleLink: 'Console voor afzenders',
    consoleDescription: 'Voor medewerkers van een organisatie die aangetekende brieven verstuurt.',
    verifyLink: 'Een bewijs controleren',
    verifyDescription: 'Controleer een bewijs van verzending of ontvangst.',
    signInTitle: 'Aanmelden',
    signInIntro: 'U meldt zich aan bij uw identiteitsprovider. Deze dienst bewaart geen wachtwoord.',
    signInButton: 'Verder naar aanmelden',
    signInUnavailable: 'Aanmelden is op dit moment niet mogelijk. Probeer het later opnieuw.',
    signInFailed: 'Het aanmelden is niet gelukt. Begin opnieuw.',
    notClerk: 'Uw account is niet aan een afzender gekoppeld. Vraag het aan de beheerder van uw organisatie.',
    notCitizen: 'Uw identiteit bevat geen rijksregisternummer: u hebt hier geen e-Box.',
    errorTitle: { '400': 'Ongeldige aanvraag', '403': 'Toegang geweigerd', '404': 'Pagina niet gevonden', '429': 'Te veel pogingen', '500': 'Er ging iets mis', '503': 'Dienst niet beschikbaar' },
    errorDetail: {
      '400': 'De aanvraag kon niet worden begrepen.',
      '403': 'U mag dit niet doen.',
      '404': 'Deze pagina bestaat niet, of u mag ze niet zien.',
      '500': 'Er trad bij ons een fout op. Probeer het later opnieuw.',
      '429': 'Er kwamen te veel pogingen van uw adres. Wacht enkele minuten en probeer het opnieuw.',
      '503': 'De dienst is tijdelijk niet beschikbaar. Probeer het later opnieuw.',
    },
    csrfRefused: 'Het formulier was verlopen of kwam niet van deze site. Probeer het opnieuw.',
    backHome: 'Terug naar de startpagina',
    reference: 'Referentie',
  },
  fr: {
    languageName: 'Français',
    skip: 'Aller au contenu principal',
    service: 'Courrier électronique recommandé',
    languages: 'Langue',
    signedInAs: 'Connecté en tant que',
    signOut: 'Se déconnecter',
    signIn: 'Se connecter',
    landingTitle: 'Courrier électronique recommandé',
    landingIntro: 'Recevez et envoyez des lettres recommandées avec une preuve légale d’envoi et de réception.',
    eboxLink: 'Mon e-Box',
    eboxDescription: 'Lisez les lettres recommandées qui vous ont été envoyées.',
    consoleLink: 'Console des expéditeurs',
    consoleDescription: 'Pour le personnel d’une organisation qui envoie des lettres recommandées.',
    verifyLink: 'Vérifier une preuve',
    verifyDescription: 'Contrôlez une preuve d’envoi ou de réception.',
    signInTitle: 'Se connecter',
    signInIntro: 'Vous vous connectez auprès de votre fournisseur d’identité. Ce service ne conserve aucun mot de passe.',
    signInButton: 'Continuer vers la connexion',
    signInUnavailable: 'La connexion n’est pas possible pour le moment. Veuillez réessayer plus tard.',
    signInFailed: 'La connexion a échoué. Veuillez recommencer.',
    notClerk: 'Votre compte n’est lié à aucun expéditeur. Adressez-vous à l’administrateur de votre organisation.',
    notCitizen: 'Votre identité ne comporte pas de numéro de registre national : vous n’avez pas d’e-Box ici.',
    errorTitle: { '400': 'Requête invalide', '403': 'Accès refusé', '404': 'Page introuvable', '429': 'Trop de tentatives', '500': 'Une erreur est survenue', '503': 'Service indisponible' },
    errorDetail: {
      '400': 'La requête n’a pas pu être comprise.',
      '403': 'Vous n’êtes pas autorisé à faire ceci.',
      '404': 'Cette page n’existe pas, ou vous ne pouvez pas la voir.',
      '500': 'Une erreur s’est produite de notre côté. Veuillez réessayer plus tard.',
      '429': 'Trop de tentatives sont venues de votre adresse. Veuillez patienter quelques minutes et réessayer.',
      '503': 'Le service est temporairement indisponible. Veuillez réessayer plus tard.',
    },
    csrfRefused: 'Le formulaire avait expiré ou ne venait pas de ce site. Veuillez réessayer.',
    backHome: 'Retour à la page d’accueil',
    reference: 'Référence',
  },
  de: {
    languageName: 'Deutsch',
    skip: 'Zum Hauptinhalt springen',
    service: 'Elektronisches Einschreiben',
    languages: 'Sprache',
    signedInAs: 'Angemeldet als',
    signOut: 'Abmelden',
    signIn: 'Anmelden',
    landingTitle: 'Elektronisches Einschreiben',
    landingIntro: 'Empfangen und versenden Sie Einschreiben mit rechtsgültigem Nachweis von Versand und Empfang.',
    eboxLink: 'Meine e-Box',
    eboxDescription: 'Lesen Sie die Einschreiben, die Ihnen gesendet wurden.',
    consoleLink: 'Konsole für Absender',
    consoleDescription: 'Für Mitarbeitende einer Organisation, die Einschreiben versendet.',
    verifyLink: 'Einen Nachweis prüfen',
    verifyDescription: 'Prüfen Sie einen Nachweis von Versand oder Empfang.',
    signInTitle: 'Anmelden',
    signInIntro: 'Sie melden sich bei Ihrem Identitätsanbieter an. Dieser Dienst speichert kein Passwort.',
    signInButton: 'Weiter zur Anmeldung',
    signInUnavailable: 'Die Anmeldung ist derzeit nicht möglich. Bitte versuchen Sie es später erneut.',
    signInFailed: 'Die Anmeldung ist nicht gelungen. Bitte beginnen Sie erneut.',
    notClerk: 'Ihr Konto ist keinem Absender zugeordnet. Wenden Sie sich an die Verwaltung Ihrer Organisation.',
    notCitizen: 'Ihre Identität enthält keine Nationalregisternummer: Sie haben hier keine e-Box.',
    errorTitle: { '400': 'Ungültige Anfrage', '403': 'Zugriff verweigert', '404': 'Seite nicht gefunden', '429': 'Zu viele Versuche', '500': 'Etwas ist schiefgelaufen', '503': 'Dienst nicht verfügbar' },
    errorDetail: {
      '400': 'Die Anfrage konnte nicht verstanden werden.',
      '403': 'Sie dürfen dies nicht tun.',
      '404': 'Diese Seite existiert nicht, oder Sie dürfen sie nicht sehen.',
      '500': 'Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.',
      '429': 'Von Ihrer Adresse kamen zu viele Versuche. Bitte warten Sie einige Minuten und versuchen Sie es erneut.',
      '503': 'Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es später erneut.',
    },
    csrfRefused: 'Das Formular war abgelaufen oder stammte nicht von dieser Website. Bitte versuchen Sie es erneut.',
    backHome: 'Zurück zur Startseite',
    reference: 'Referenz',
  },
};
