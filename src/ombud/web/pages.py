# ruff: noqa: RUF001 - Swedish and English typography use the en dash in running text
"""HTML pages of the web app other than the notice itself (Jinja2, autoescaped)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

#: UI strings of the web pages, in every language the UI speaks.
LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "answer_title": "Svaret på din begäran",
        "answer_ready": "Svaret på ärende {id} är klart. Hämta det som en zip-fil. Länken "
        "fungerar en gång: spara filen när du har hämtat den.",
        "answer_button": "Hämta svaret",
        "answer_problem": "Det gick inte att hämta svaret",
        "answer_invalid": "Länken är inte giltig, har redan använts eller har gått ut. Kontakta "
        "oss så skickar vi en ny länk.",
        "history_title": "Tidigare versioner av integritetsmeddelandet",
        "history_intro": "Varje version som har publicerats, med tidpunkten då den först "
        "visades. Välj en version för att läsa den exakt som den löd.",
        "first_served": "Publicerad första gången",
        "updated": "Uppdaterad",
        "version": "Version",
        "current": "gällande",
        "back": "Till gällande integritetsmeddelande",
        "no_versions": "Inga versioner har publicerats ännu.",
        "version_missing": "Versionen finns inte",
        "version_missing_message": "Ingen publicerad version av integritetsmeddelandet har den "
        "beteckningen. Välj bland de versioner som har publicerats.",
        # the rights request form (portal.py)
        "rq_title": "Begäran om dina personuppgifter",
        "rq_intro": "Här kan du använda dina rättigheter enligt dataskyddsförordningen (GDPR) "
        "hos {org}. Vi svarar utan onödigt dröjsmål och senast inom en månad.",
        "rq_required_note": "Alla fält är frivilliga utom typ av begäran och e-postadress.",
        "rq_error_title": "Det finns ett problem",
        "rq_error_prefix": "Fel",
        "rq_type_legend": "Vad vill du att vi gör?",
        "rq_type_hint": "Välj ett alternativ. Vill du mer än en sak kan du skicka en begäran "
        "till efteråt.",
        "rq_type_access": "Registerutdrag",
        "rq_type_access_hint": "Få veta vilka personuppgifter vi behandlar om dig, varför och "
        "hur länge, och få en kopia av dem.",
        "rq_type_rectification": "Rättelse",
        "rq_type_rectification_hint": "Få felaktiga uppgifter om dig rättade, eller "
        "ofullständiga kompletterade. Skriv i beskrivningen vad som är fel.",
        "rq_type_erasure": "Radering",
        "rq_type_erasure_hint": "Få dina personuppgifter raderade. Uppgifter som vi enligt lag "
        "måste spara, till exempel bokföring, raderas inte, men vi berättar vilka och varför.",
        "rq_type_restriction": "Begränsning",
        "rq_type_restriction_hint": "Att vi tills vidare bara sparar dina uppgifter och inte "
        "använder dem, till exempel medan vi kontrollerar om de stämmer.",
        "rq_type_objection": "Invändning",
        "rq_type_objection_hint": "Att vi slutar med en behandling som vi gör för att vi har "
        "ett berättigat intresse. Direktmarknadsföring slutar vi alltid med, genast.",
        "rq_type_portability": "Dataportabilitet",
        "rq_type_portability_hint": "Få uppgifterna som du själv har lämnat till oss i ett "
        "maskinläsbart format, så att du kan flytta dem till någon annan.",
        "rq_type_withdraw-consent": "Återkalla samtycke",
        "rq_type_withdraw-consent_hint": "Att vi slutar med det du har samtyckt till, till "
        "exempel nyhetsbrev. Det vi gjorde innan du återkallade påverkas inte.",
        "rq_who_legend": "Vem är du?",
        "rq_who_hint": "Vi använder uppgifterna bara för att hitta dig i våra system och för "
        "att svara dig. Ju fler du anger, desto säkrare hittar vi allt.",
        "rq_email": "E-postadress",
        "rq_email_hint": "Vi skickar en länk och en kod hit för att bekräfta att det är du, och "
        "svaret kommer hit.",
        "rq_phone": "Telefonnummer (frivilligt)",
        "rq_phone_hint": "Till exempel 070-123 45 67, eller +46 70 123 45 67.",
        "rq_personnummer": "Personnummer (frivilligt)",
        "rq_personnummer_hint": "ÅÅÅÅMMDD-NNNN. Ange det bara om du vill att vi söker på det "
        "också. Samordningsnummer går bra.",
        "rq_customer_id": "Kundnummer (frivilligt)",
        "rq_customer_id_hint": "Om du har ett kundnummer hos oss.",
        "rq_activities_legend": "Vilken behandling invänder du mot?",
        "rq_activities_hint": "Gäller bara invändningar. Väljer du ingen slutar vi med all "
        "direktmarknadsföring.",
        "rq_direct_marketing": "direktmarknadsföring: vi slutar genast",
        "rq_details": "Beskriv din begäran (frivilligt)",
        "rq_details_hint": "Till exempel vad som är fel och hur det ska vara, eller skälen för "
        "din invändning. Skriv inte fler personuppgifter än som behövs.",
        "rq_language_legend": "Vilket språk vill du ha svaret på?",
        "rq_privacy_note": "Vi sparar det du skickar för att kunna handlägga din begäran och "
        "visa att vi har gjort det.",
        "rq_privacy_link": "Läs vårt integritetsmeddelande",
        "rq_submit": "Skicka begäran",
        "rq_err_type": "Välj vad du vill att vi gör",
        "rq_err_email_missing": "Ange din e-postadress – vi behöver den för att bekräfta att "
        "det är du",
        "rq_err_email": "Ange en e-postadress i formen namn@exempel.se",
        "rq_err_phone": "Ange ett telefonnummer som 070-123 45 67, eller med landsnummer som "
        "+46 70 123 45 67",
        "rq_err_personnummer": "Personnumret är inte giltigt – kontrollera datumet och de fyra "
        "sista siffrorna (ÅÅÅÅMMDD-NNNN)",
        "rq_err_identifier": "Uppgiften är inte giltig – kontrollera den",
        "rq_err_activity": "Välj bland behandlingarna i listan",
        "rq_err_details": "Beskrivningen är för lång – korta den till högst {max} tecken",
        "rq_err_language": "Välj ett av språken i listan",
        "rq_err_token": "Formuläret hade varit öppet för länge eller skickades inte från den "
        "här sidan. Kontrollera uppgifterna och skicka igen.",
        "rq_err_unreadable": "Formuläret kunde inte läsas. Fyll i det och skicka igen.",
        "rq_err_form": "Begäran kunde inte tas emot: {message}",
        "rq_sent_title": "Titta i din e-post",
        "rq_sent": "Vi har tagit emot din begäran. Den har ärendenummer {id}.",
        "rq_sent_mail": "För att vara säkra på att det är du har vi skickat ett mejl med en "
        "länk och en kod till adressen du angav. Öppna länken, eller skriv koden här nedanför. "
        "Länken och koden gäller i 24 timmar.",
        "rq_sent_nomail": "Har inget mejl kommit inom några minuter? Titta i skräpposten, eller "
        "kontrollera adressen och skicka begäran igen.",
        "rq_code": "Koden från mejlet",
        "rq_code_hint": "Sex siffror.",
        "rq_code_submit": "Bekräfta",
        "rq_err_code": "Koden stämmer inte – kontrollera mejlet och försök igen",
        "rq_err_code_format": "Skriv de sex siffrorna i koden från mejlet",
        "rq_verified_title": "Tack – det är bekräftat",
        "rq_verified": "Vi har bekräftat att det är du som har skickat begäran {id} ({type}).",
        "rq_verified_due_before": "Vi svarar senast den",
        "rq_verified_due_after": ".",
        "rq_verified_next": "Svaret kommer till din e-postadress. Behöver vi mer tid för en "
        "komplicerad begäran får du veta det, med skälen, före den dagen.",
        "rq_link_title": "Det gick inte att bekräfta begäran",
        "rq_link_unknown": "Länken är inte giltig. Kontrollera att du har fått med hela länken "
        "från mejlet.",
        "rq_link_used": "Länken eller koden har redan använts. Har du redan bekräftat din "
        "begäran behöver du inte göra något mer.",
        "rq_link_expired": "Länken eller koden har gått ut: den gäller i 24 timmar.",
        "rq_code_none": "Det finns ingen giltig kod för begäran längre, till exempel efter för "
        "många felaktiga försök.",
        "rq_not_found": "Vi hittar ingen begäran med det numret.",
        "rq_link_failed": "Begäran kunde inte bekräftas.",
        "rq_start_again": "Skicka en ny begäran",
        "rq_contact": "Frågor? Kontakta vårt dataskyddsombud:",
        "rq_limit_title": "För många begäranden",
        "rq_limit": "Vi har tagit emot många begäranden från din uppkoppling på kort tid. Vänta "
        "{minutes} minuter och försök igen. Har du redan skickat en begäran, titta efter vårt "
        "mejl.",
        "rq_mail_failed_title": "Mejlet kunde inte skickas",
        "rq_mail_failed": "Just nu kunde vi inte skicka mejlet där du bekräftar att det är du. "
        "Försök igen om en stund.",
        # newsletter and network sign-up (signup.py)
        "su_title": "Anmälan: {form}",
        "su_intro": "Anmäl dig med din e-postadress. Vi skickar ett mejl med en länk: först när "
        "du har öppnat den är du anmäld. {org} använder adressen bara till det du samtycker till "
        "här.",
        "su_email": "E-postadress",
        "su_email_hint": "Bekräftelselänken skickas hit.",
        "su_consent_legend": "Ditt samtycke",
        "su_privacy_note": "Vi sparar vad du samtyckte till, när och till vilken text, för att "
        "kunna visa det.",
        "su_submit": "Anmäl mig",
        "su_err_unreadable": "Formuläret kunde inte läsas. Fyll i det och skicka igen.",
        "su_err_token": "Formuläret hade varit öppet för länge eller skickades inte från den här "
        "sidan. Försök igen.",
        "su_err_text_changed": "Texten om samtycket har ändrats sedan sidan visades. Läs den nya "
        "texten och kryssa i rutan igen.",
        "su_err_consent": "Kryssa i rutan om du vill anmäla dig – utan ditt samtycke kan vi inte "
        "skicka något",
        "su_err_email_missing": "Ange din e-postadress",
        "su_err_email": "Ange en e-postadress i formen namn@exempel.se",
        "su_sent_title": "Titta i din e-post",
        "su_sent": "Om adressen kan ta emot e-post har vi skickat en länk för att bekräfta "
        "anmälan till {form}. Öppna länken inom {hours} timmar: först då är du anmäld.",
        "su_sent_nomail": "Har inget mejl kommit inom några minuter? Titta i skräpposten, eller "
        "kontrollera adressen och försök igen.",
        "su_again": "Anmäl dig igen",
        "su_confirmed_title": "Tack – du är anmäld",
        "su_confirmed": "Du är nu anmäld till {form}. Du kan när som helst avregistrera dig med "
        "länken i varje utskick.",
        "su_already_title": "Du är redan anmäld",
        "su_already": "Den här länken har redan använts: anmälan till {form} är bekräftad.",
        "su_manage_hint": "Dina samtycken ser och ändrar du på sidan",
        "su_unsub_title": "Avregistrera dig",
        "su_unsub_intro": "Vill du sluta få {form} till {email}?",
        "su_unsub_button": "Avregistrera mig",
        "su_unsubscribed_title": "Du är avregistrerad",
        "su_unsubscribed": "{email} får inte längre {form}. Ditt samtycke är återkallat från och "
        "med nu.",
        "su_resubscribe": "Ångrat dig?",
        "su_resubscribe_link": "Anmäl dig till {form} igen",
        "su_missing_title": "Sidan finns inte",
        "su_missing": "Det finns ingen sådan anmälan.",
        "su_limit_title": "För många anmälningar",
        "su_limit": "Vi har tagit emot många anmälningar från din uppkoppling på kort tid. Vänta "
        "{minutes} minuter och försök igen.",
        "su_mail_failed_title": "Mejlet kunde inte skickas",
        "su_mail_failed": "Just nu kunde vi inte skicka mejlet med länken. Försök igen om en "
        "stund.",
        "su_link_title": "Länken fungerar inte",
        "su_link_unknown": "Länken är inte giltig. Kontrollera att du har fått med hela länken "
        "från mejlet.",
        "su_link_expired": "Länken har gått ut. Anmäl dig igen så skickar vi en ny.",
        "su_link_gone": "Utskicket finns inte längre.",
        "su_unsub_unknown": "Länken för avregistrering är inte giltig. Kontrollera att du har "
        "fått med hela länken, eller avregistrera dig på sidan för dina samtycken.",
        # the person's view of their consents (consent_page.py)
        "cp_title": "Dina samtycken",
        "cp_intro": "Här ser du vad du har samtyckt till och ändrar det. Ändringar gäller "
        "genast. Det som gjordes innan du återkallade ett samtycke påverkas inte.",
        "cp_saved": "Dina val är sparade.",
        "cp_cookies_title": "Cookies i den här webbläsaren",
        "cp_cookies_intro": "Så här har du svarat på frågan om cookies i den här webbläsaren.",
        "cp_no_choice": "Du har inte gjort något val om cookies i den här webbläsaren. Inget är "
        "påslaget förrän du väljer det.",
        "cp_categories_legend": "Tillåt cookies för",
        "cp_save": "Spara mina val",
        "cp_lists_title": "Nyhetsbrev och nätverk",
        "cp_lists_intro": "Ange din e-postadress så skickar vi en länk till sidan där du ser och "
        "återkallar dina samtycken till nyhetsbrev och nätverk.",
        "cp_email_hint": "Vi visar ingenting förrän du har öppnat länken i mejlet.",
        "cp_send_link": "Skicka länken",
        "cp_signup_lead": "Vill du anmäla dig?",
        "cp_sent": "Om adressen kan ta emot e-post har vi skickat en länk till den. Länken "
        "gäller i {hours} timmar.",
        "cp_manage_title": "Dina nyhetsbrev och nätverk",
        "cp_manage_intro": "Samtycken för {email}.",
        "cp_withdrawn": "Ditt samtycke till {form} är återkallat från och med nu.",
        "cp_list": "Utskick",
        "cp_state": "Ditt samtycke",
        "cp_change": "Ändra",
        "cp_state_given": "Anmäld",
        "cp_state_withdrawn": "Återkallat",
        "cp_state_none": "Inte anmäld",
        "cp_withdraw": "Återkalla",
        "cp_withdraw_label": "Återkalla samtycket till {form}",
        "cp_signup": "Anmäl dig",
        "cp_withdraw_note": "En återkallelse gäller genast och meddelas till systemen som "
        "skickar utskicken.",
        "cp_err_changed": "Texten om cookies har ändrats sedan sidan visades. Se över dina val "
        "och spara igen.",
        "cp_err_list": "Välj ett av utskicken i listan.",
        "cp_link_expired": "Länken har gått ut. Be om en ny på sidan för dina samtycken.",
    },
    "en": {
        "answer_title": "The answer to your request",
        "answer_ready": "The answer to case {id} is ready. Download it as a zip file. The link "
        "works once: keep the file once you have it.",
        "answer_button": "Download the answer",
        "answer_problem": "The answer could not be downloaded",
        "answer_invalid": "The link is not valid, has been used or has expired. Contact us and "
        "we will send a new link.",
        "history_title": "Earlier versions of the privacy notice",
        "history_intro": "Every version that has been published, with the time it was first "
        "shown. Choose a version to read it exactly as it was.",
        "first_served": "First published",
        "updated": "Updated",
        "version": "Version",
        "current": "current",
        "back": "To the current privacy notice",
        "no_versions": "No versions have been published yet.",
        "version_missing": "No such version",
        "version_missing_message": "No published version of the privacy notice has that "
        "name. Choose among the versions that have been published.",
        # the rights request form (portal.py)
        "rq_title": "A request about your personal data",
        "rq_intro": "Here you can use your rights under the General Data Protection Regulation "
        "(GDPR) with {org}. We answer without undue delay and within one month at the latest.",
        "rq_required_note": "Every field is optional except the type of request and the "
        "e-mail address.",
        "rq_error_title": "There is a problem",
        "rq_error_prefix": "Error",
        "rq_type_legend": "What do you want us to do?",
        "rq_type_hint": "Choose one. If you want more than one thing, you can send another "
        "request afterwards.",
        "rq_type_access": "Access (register extract)",
        "rq_type_access_hint": "Find out which personal data we process about you, why and for "
        "how long, and get a copy of it.",
        "rq_type_rectification": "Rectification",
        "rq_type_rectification_hint": "Have inaccurate data about you corrected, or incomplete "
        "data completed. Say in the description what is wrong.",
        "rq_type_erasure": "Erasure",
        "rq_type_erasure_hint": "Have your personal data erased. Data we must keep by law, such "
        "as accounting records, is not erased, but we tell you which and why.",
        "rq_type_restriction": "Restriction",
        "rq_type_restriction_hint": "Have us only store your data and not use it for now, for "
        "example while we check whether it is accurate.",
        "rq_type_objection": "Objection",
        "rq_type_objection_hint": "Have us stop processing that we do because we have a "
        "legitimate interest. Direct marketing we always stop, at once.",
        "rq_type_portability": "Data portability",
        "rq_type_portability_hint": "Get the data you have given us in a machine-readable "
        "format, so that you can take it elsewhere.",
        "rq_type_withdraw-consent": "Withdraw consent",
        "rq_type_withdraw-consent_hint": "Have us stop what you consented to, such as "
        "newsletters. What we did before you withdrew stays lawful.",
        "rq_who_legend": "Who are you?",
        "rq_who_hint": "We use these only to find you in our systems and to answer you. The more "
        "you give, the more surely we find everything.",
        "rq_email": "E-mail address",
        "rq_email_hint": "We send a link and a code here to confirm that it is you, and the "
        "answer comes here.",
        "rq_phone": "Phone number (optional)",
        "rq_phone_hint": "For example 070-123 45 67, or +46 70 123 45 67.",
        "rq_personnummer": "Swedish personal identity number (optional)",
        "rq_personnummer_hint": "YYYYMMDD-NNNN. Give it only if you want us to search by it "
        "too. A coordination number works as well.",
        "rq_customer_id": "Customer number (optional)",
        "rq_customer_id_hint": "If you have a customer number with us.",
        "rq_activities_legend": "Which processing do you object to?",
        "rq_activities_hint": "Only for objections. If you choose none, we stop all direct "
        "marketing.",
        "rq_direct_marketing": "direct marketing: we stop at once",
        "rq_details": "Describe your request (optional)",
        "rq_details_hint": "For example what is wrong and what it should be, or your grounds "
        "for objecting. Do not write more personal data than needed.",
        "rq_language_legend": "Which language do you want the answer in?",
        "rq_privacy_note": "We keep what you send to handle your request and to show that we did.",
        "rq_privacy_link": "Read our privacy notice",
        "rq_submit": "Send request",
        "rq_err_type": "Choose what you want us to do",
        "rq_err_email_missing": "Enter your e-mail address – we need it to confirm that it is you",
        "rq_err_email": "Enter an e-mail address in the form name@example.com",
        "rq_err_phone": "Enter a phone number like 070-123 45 67, or with a country code like "
        "+46 70 123 45 67",
        "rq_err_personnummer": "The personal identity number is not valid – check the date and "
        "the last four digits (YYYYMMDD-NNNN)",
        "rq_err_identifier": "This is not valid – check it",
        "rq_err_activity": "Choose from the processing in the list",
        "rq_err_details": "The description is too long – shorten it to {max} characters at most",
        "rq_err_language": "Choose one of the languages in the list",
        "rq_err_token": "The form had been open too long or was not sent from this page. Check "
        "the details and send it again.",
        "rq_err_unreadable": "The form could not be read. Fill it in and send it again.",
        "rq_err_form": "The request could not be accepted: {message}",
        "rq_sent_title": "Check your e-mail",
        "rq_sent": "We have received your request. Its case number is {id}.",
        "rq_sent_mail": "To be sure it is you, we have sent a mail with a link and a code to the "
        "address you gave. Open the link, or enter the code below. The link and the code are "
        "valid for 24 hours.",
        "rq_sent_nomail": "No mail within a few minutes? Look in your spam folder, or check the "
        "address and send the request again.",
        "rq_code": "The code from the mail",
        "rq_code_hint": "Six digits.",
        "rq_code_submit": "Confirm",
        "rq_err_code": "The code is not right – check the mail and try again",
        "rq_err_code_format": "Enter the six digits of the code from the mail",
        "rq_verified_title": "Thank you – confirmed",
        "rq_verified": "We have confirmed that it is you who made request {id} ({type}).",
        "rq_verified_due_before": "We will answer by",
        "rq_verified_due_after": " at the latest.",
        "rq_verified_next": "The answer comes to your e-mail address. If we need more time for "
        "a complex request, we tell you, with the reasons, before that date.",
        "rq_link_title": "The request could not be confirmed",
        "rq_link_unknown": "The link is not valid. Check that you have the whole link from the "
        "mail.",
        "rq_link_used": "The link or code has already been used. If you have already confirmed "
        "your request, you need not do anything more.",
        "rq_link_expired": "The link or code has expired: it is valid for 24 hours.",
        "rq_code_none": "There is no valid code for this request any more, for example after "
        "too many wrong tries.",
        "rq_not_found": "We find no request with that number.",
        "rq_link_failed": "The request could not be confirmed.",
        "rq_start_again": "Make a new request",
        "rq_contact": "Questions? Contact our data protection officer:",
        "rq_limit_title": "Too many requests",
        "rq_limit": "We have received many requests from your connection in a short time. Wait "
        "{minutes} minutes and try again. If you have already sent a request, look for our "
        "mail.",
        "rq_mail_failed_title": "The mail could not be sent",
        "rq_mail_failed": "We could not send the confirmation mail just now. Please try again "
        "in a while.",
        # newsletter and network sign-up (signup.py)
        "su_title": "Sign up: {form}",
        "su_intro": "Sign up with your e-mail address. We send a mail with a link: only once you "
        "have opened it are you signed up. {org} uses the address only for what you consent to "
        "here.",
        "su_email": "E-mail address",
        "su_email_hint": "The confirmation link is sent here.",
        "su_consent_legend": "Your consent",
        "su_privacy_note": "We keep what you consented to, when and to which text, to be able "
        "to show it.",
        "su_submit": "Sign me up",
        "su_err_unreadable": "The form could not be read. Fill it in and send it again.",
        "su_err_token": "The form had been open too long or was not sent from this page. Try "
        "again.",
        "su_err_text_changed": "The consent text has changed since the page was shown. Read the "
        "new text and tick the box again.",
        "su_err_consent": "Tick the box if you want to sign up – without your consent we cannot "
        "send anything",
        "su_err_email_missing": "Enter your e-mail address",
        "su_err_email": "Enter an e-mail address in the form name@example.com",
        "su_sent_title": "Check your e-mail",
        "su_sent": "If the address can receive mail, we have sent it a link to confirm the "
        "sign-up to {form}. Open the link within {hours} hours: only then are you signed up.",
        "su_sent_nomail": "No mail within a few minutes? Look in your spam folder, or check the "
        "address and try again.",
        "su_again": "Sign up again",
        "su_confirmed_title": "Thank you – you are signed up",
        "su_confirmed": "You are now signed up to {form}. You can unsubscribe at any time with "
        "the link in every mailing.",
        "su_already_title": "You are already signed up",
        "su_already": "This link has been used already: the sign-up to {form} is confirmed.",
        "su_manage_hint": "You see and change your consents on the page",
        "su_unsub_title": "Unsubscribe",
        "su_unsub_intro": "Do you want to stop receiving {form} at {email}?",
        "su_unsub_button": "Unsubscribe me",
        "su_unsubscribed_title": "You are unsubscribed",
        "su_unsubscribed": "{email} no longer receives {form}. Your consent is withdrawn as of "
        "now.",
        "su_resubscribe": "Changed your mind?",
        "su_resubscribe_link": "Sign up to {form} again",
        "su_missing_title": "The page does not exist",
        "su_missing": "There is no such sign-up.",
        "su_limit_title": "Too many sign-ups",
        "su_limit": "We have received many sign-ups from your connection in a short time. Wait "
        "{minutes} minutes and try again.",
        "su_mail_failed_title": "The mail could not be sent",
        "su_mail_failed": "We could not send the mail with the link just now. Please try again "
        "in a while.",
        "su_link_title": "The link does not work",
        "su_link_unknown": "The link is not valid. Check that you have the whole link from the "
        "mail.",
        "su_link_expired": "The link has expired. Sign up again and we send a new one.",
        "su_link_gone": "This mailing no longer exists.",
        "su_unsub_unknown": "The unsubscribe link is not valid. Check that you have the whole "
        "link, or unsubscribe on the page for your consents.",
        # the person's view of their consents (consent_page.py)
        "cp_title": "Your consents",
        "cp_intro": "Here you see what you have consented to and change it. Changes take effect "
        "at once. What was done before you withdrew a consent stays lawful.",
        "cp_saved": "Your choices are saved.",
        "cp_cookies_title": "Cookies in this browser",
        "cp_cookies_intro": "This is how you answered the question about cookies here.",
        "cp_no_choice": "You have not made a choice about cookies in this browser. Nothing is "
        "on until you choose it.",
        "cp_categories_legend": "Allow cookies for",
        "cp_save": "Save my choices",
        "cp_lists_title": "Newsletter and network",
        "cp_lists_intro": "Enter your e-mail address and we send a link to the page where you "
        "see and withdraw your consents to newsletters and networks.",
        "cp_email_hint": "We show nothing until you have opened the link in the mail.",
        "cp_send_link": "Send the link",
        "cp_signup_lead": "Want to sign up?",
        "cp_sent": "If the address can receive mail, we have sent it a link. The link is valid "
        "for {hours} hours.",
        "cp_manage_title": "Your newsletters and networks",
        "cp_manage_intro": "Consents for {email}.",
        "cp_withdrawn": "Your consent to {form} is withdrawn as of now.",
        "cp_list": "Mailing",
        "cp_state": "Your consent",
        "cp_change": "Change",
        "cp_state_given": "Signed up",
        "cp_state_withdrawn": "Withdrawn",
        "cp_state_none": "Not signed up",
        "cp_withdraw": "Withdraw",
        "cp_withdraw_label": "Withdraw the consent to {form}",
        "cp_signup": "Sign up",
        "cp_withdraw_note": "A withdrawal takes effect at once and is passed on to the systems "
        "that send the mailings.",
        "cp_err_changed": "The cookie text has changed since the page was shown. Review your "
        "choices and save again.",
        "cp_err_list": "Choose one of the mailings in the list.",
        "cp_link_expired": "The link has expired. Ask for a new one on the page Your consents.",
    },
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ombud.web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(template: str, *, lang: str, **context: Any) -> str:
    """Render ``template`` in ``lang`` (English labels for a language the UI lacks)."""
    labels = LABELS.get(lang, LABELS["en"])
    return _environment().get_template(template).render(lang=lang, t=labels, **context)


def base_path(request: Request) -> str:
    """Where the app is mounted (``root_path``), for links within it."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def page_headers(lang: str, *, private: bool = False) -> dict[str, str]:
    """Portal pages are never cached (what was typed, one-time links); ``private``: the
    page's address holds a token, so it is never sent on as a Referer.
    """
    headers = {"Content-Language": lang, "Vary": "Accept-Language", "Cache-Control": "no-store"}
    if private:
        headers["Referrer-Policy"] = "no-referrer"
    return headers


def client_address(request: Request) -> str | None:
    """The peer's address, for submission limits only (never logged or stored)."""
    return request.client.host if request.client is not None else None


def problem_page(
    request: Request,
    *,
    lang: str,
    organisation: str,
    heading: str,
    message: str,
    contact: str | None,
    next_href: str,
    next_label: str,
    status: int,
    private: bool = False,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page saying what went wrong, whom to ask, and where to go on."""
    page = render_page(
        "problem.html.j2",
        lang=lang,
        title=organisation,
        heading=heading,
        message=message,
        contact=contact,
        next_href=f"{base_path(request)}{next_href}",
        next_label=next_label,
    )
    return HTMLResponse(
        page, status_code=status, headers={**page_headers(lang, private=private), **(headers or {})}
    )
