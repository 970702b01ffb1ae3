# ruff: noqa: RUF001 - Swedish and English typography use the en dash in running text
"""Ombud's built-in wording in Swedish and English.

Headings, table headers, the plain-language names of legal bases, roles and
sources, and a default text for every data subject right. The register's
``notice`` section overrides the texts; the headings and labels are Ombud's.
A register language without built-in wording falls back to English.

Strings may contain ``{org}`` (the organisation's name), ``{org_gen}`` (its
genitive: "Almis", "Almi's") and ``{authority}`` (the supervisory authority's
name); :func:`fill` substitutes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ombud.register.model import (
    LegalBasis,
    RecipientRole,
    RetentionStart,
    Right,
    Source,
    TransferMechanism,
)

#: Languages with built-in wording; any other falls back to English.
BUILTIN = ("sv", "en")
FALLBACK = "en"

UI: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Information om hur {org} behandlar dina personuppgifter",
        "intro_default": "Här beskriver {org} hur personuppgifter om dig samlas in, används, "
        "lagras och delas, och vilka rättigheter du har.",
        "language": "Språk",
        "skip": "Hoppa till innehållet",
        "toc": "Innehåll",
        "updated": "Uppdaterad",
        "published": "Publicerad",
        "version": "Version",
        "controllers": "Personuppgiftsansvariga",
        "joint_default": "{lead} och {others} är gemensamt personuppgiftsansvariga för "
        "behandlingen av dina personuppgifter. Du kan vända dig till vem som helst av dem för "
        "att använda dina rättigheter.",
        "single_default": "Personuppgiftsansvarig är {lead}.",
        "quick": "Snabbsvar",
        "quick_intro": "De vanligaste frågorna, besvarade direkt. Detaljerna finns längre ned.",
        "q_email": "Vad gör ni med min e-postadress – och hur stoppar jag det?",
        "q_data": "Vad gör ni med mina uppgifter – och hur stoppar jag det?",
        "q_uses": "används till:",
        "q_marketing": "Hur slutar jag få marknadsföring och nyhetsbrev?",
        "q_marketing_none": "{org} använder inte dina personuppgifter för marknadsföring.",
        "q_dpo": "Hur kontaktar jag dataskyddsombudet?",
        "q_dpo_none": "Kontakta {org} via uppgifterna under rubriken om kontakt nedan.",
        "q_request": "Hur får jag veta vad ni har om mig, eller få det rättat eller raderat?",
        "q_request_text": "Skicka en begäran. {org} svarar utan onödigt dröjsmål och senast "
        "inom en månad, och det kostar inget.",
        "q_overview": "Alla behandlingar i korthet",
        "cap_overview": "Rättslig grund, lagringstid och hur du stoppar varje behandling",
        "col_how_to_stop": "Så stoppar du det",
        "act_withdraw": "Ta tillbaka samtycket",
        "act_object_dm": "Invänd – vi slutar direkt",
        "act_object": "Invänd mot behandlingen",
        "act_contract": "Behövs för avtalet med dig och kan inte stoppas medan avtalet gäller.",
        "act_legal_obligation": "Krävs enligt lag och kan inte stoppas.",
        "act_vital_interest": "Behövs för att skydda någons liv eller hälsa.",
        "make_request": "Skicka en begäran",
        "manage_consent": "Ändra dina samtycken",
        "complain": "Klaga hos {authority}",
        "email": "E-post",
        "postal": "Post",
        "phone": "Telefon",
        "website": "Webbplats",
        "h_categories": "Personuppgiftskategorier och exempel på personuppgifter",
        "cap_categories": "Personuppgiftskategorier som {org} behandlar",
        "col_category": "Personuppgiftskategori",
        "col_examples": "Exempel på personuppgifter",
        "special": "Känsliga personuppgifter (artikel 9)",
        "h_li": "{org_gen} hantering av personuppgifter",
        "li_intro": "Nedan anges hur {org} hanterar dina personuppgifter där den rättsliga "
        "grunden är intresseavvägning (berättigat intresse). Du har rätt att invända mot "
        "dessa behandlingar.",
        "cap_li": "Behandlingar som grundar sig på intresseavvägning",
        "col_activity": "Behandling",
        "col_categories": "Personuppgiftskategorier som behandlas",
        "col_purpose": "Ändamål med behandlingen",
        "col_source": "Hur samlas personuppgifter in?",
        "col_retention": "Lagringstid",
        "col_legal_basis": "Rättslig grund",
        "col_interest": "Det berättigade intresset",
        "profiling": "Denna behandling innebär profilering.",
        "h_retention": "Så här länge sparar {org} dina personuppgifter",
        "retention_default": "Personuppgifterna sparas så länge det krävs för att uppfylla "
        "syftet med behandlingen och raderas därefter.",
        "h_consent": "Behandlingar där personuppgifter samlas in med samtycke som rättslig grund",
        "consent_intro": "Om du inte lämnar ditt samtycke går det inte att använda de tjänster "
        "som behandlingen avser. Du kan när som helst ta tillbaka ditt samtycke, lika enkelt "
        "som du gav det; det påverkar inte behandling som redan skett.",
        "cap_consent": "Behandlingar som grundar sig på samtycke",
        "h_other_bases": "Behandlingar med annan rättslig grund",
        "other_bases_intro": "Följande behandlingar grundar sig på avtal, rättslig förpliktelse "
        "eller annan rättslig grund än intresseavvägning och samtycke.",
        "cap_other_bases": "Behandlingar med annan rättslig grund",
        "h_disclosure": "Utlämnande av personuppgifter",
        "disclosure_default": "Personuppgifter kan lämnas ut till de mottagare som anges nedan.",
        "cap_recipients": "Mottagare av personuppgifter",
        "col_recipient": "Mottagare",
        "col_role": "Roll",
        "col_used_in": "Behandlingar",
        "col_country": "Var uppgifterna behandlas",
        "col_safeguard": "Skyddsåtgärd vid överföring",
        "col_more": "Mer information",
        "their_privacy": "Mottagarens integritetsinformation",
        "eea": "Inom EU/EES",
        "outside_eea": "utanför EU/EES",
        "h_transfers": "Överföring till länder utanför EU/EES",
        "transfers_default": "Vissa mottagare behandlar personuppgifter utanför EU/EES (i "
        "tredje land). Överföringen sker då med stöd av: {mechanisms}.",
        "h_updates": "Uppdatering av information",
        "updates_intro": "Denna information kan komma att uppdateras; väsentliga ändringar "
        "anges här.",
        "earlier_versions": "Tidigare versioner av denna information",
        "h_security": "Skydd för personuppgifter",
        "security_default": "{org} har vidtagit lämpliga administrativa, tekniska, "
        "organisatoriska och fysiska säkerhetsåtgärder för att skydda dina personuppgifter mot "
        "förlust, missbruk, obehörig åtkomst, röjande, ändring och förstöring.",
        "h_rights": "Dina rättigheter i fråga om dataskydd",
        "rights_intro": "Som registrerad har du följande rättigheter i fråga om de "
        "personuppgifter {org} har om dig. Det kostar inget att använda dem.",
        "h_contact": "Kontakta {org} eller {authority}",
        "contact_default": "Har du frågor, vill du använda dina rättigheter eller har du något "
        "annat som rör dataskydd kan du kontakta {org_gen} dataskyddsombud. Du kan också lämna "
        "klagomål på {org_gen} hantering av personuppgifter till {authority}.",
        "dpo": "{org_gen} dataskyddsombud",
        "authority_fallback": "tillsynsmyndigheten",
        "h_other_notices": "Andra behandlingar och var du hittar information",
        "other_notices_intro": "{org} kan behandla fler personuppgifter om dig för andra "
        "syften; nedan beskrivs var du hittar mer information.",
        "cap_other_notices": "Var du hittar information om andra behandlingar",
        "col_area": "Område",
        "col_where": "Var finns informationen om behandlingen?",
        "yes": "ja",
        "no": "nej",
    },
    "en": {
        "title": "How {org} processes your personal data",
        "intro_default": "This notice describes how {org} collects, uses, stores and shares "
        "personal data about you, and the rights you have.",
        "language": "Language",
        "skip": "Skip to the content",
        "toc": "Contents",
        "updated": "Updated",
        "published": "Published",
        "version": "Version",
        "controllers": "Controllers",
        "joint_default": "{lead} and {others} are joint controllers for the processing of "
        "your personal data. You may turn to any of them to exercise your rights.",
        "single_default": "The controller is {lead}.",
        "quick": "Quick answers",
        "quick_intro": "The most common questions, answered at once. The details follow below.",
        "q_email": "What do you do with my e-mail address – and how do I stop it?",
        "q_data": "What do you do with my data – and how do I stop it?",
        "q_uses": "– used for:",
        "q_marketing": "How do I stop marketing and newsletters?",
        "q_marketing_none": "{org} does not use your personal data for marketing.",
        "q_dpo": "How do I contact the data protection officer?",
        "q_dpo_none": "Contact {org} using the details under the contact heading below.",
        "q_request": "How do I find out what you hold about me, or have it corrected or erased?",
        "q_request_text": "Send a request. {org} answers without undue delay and at the latest "
        "within one month, free of charge.",
        "q_overview": "Every activity at a glance",
        "cap_overview": "Legal basis, retention and how to stop each activity",
        "col_how_to_stop": "How to stop it",
        "act_withdraw": "Withdraw consent",
        "act_object_dm": "Object – we stop at once",
        "act_object": "Object to this processing",
        "act_contract": "Needed for our contract with you; it cannot be stopped while the "
        "contract lasts.",
        "act_legal_obligation": "Required by law; it cannot be stopped.",
        "act_vital_interest": "Needed to protect someone's life or health.",
        "make_request": "Make a request",
        "manage_consent": "Change your consents",
        "complain": "Complain to {authority}",
        "email": "E-mail",
        "postal": "Post",
        "phone": "Phone",
        "website": "Website",
        "h_categories": "Categories of personal data, with examples",
        "cap_categories": "Categories of personal data that {org} processes",
        "col_category": "Category of personal data",
        "col_examples": "Examples of personal data",
        "special": "Special category of personal data (Article 9)",
        "h_li": "How {org} handles personal data",
        "li_intro": "Below is how {org} handles your personal data where the legal basis is a "
        "balancing of interests (legitimate interest). You have the right to object to this "
        "processing.",
        "cap_li": "Processing based on legitimate interest",
        "col_activity": "Activity",
        "col_categories": "Categories of personal data processed",
        "col_purpose": "Purpose of the processing",
        "col_source": "Where the data comes from",
        "col_retention": "How long it is kept",
        "col_legal_basis": "Legal basis",
        "col_interest": "The legitimate interest",
        "profiling": "This processing involves profiling.",
        "h_retention": "How long {org} keeps your personal data",
        "retention_default": "Personal data is kept as long as it is needed for the purpose of "
        "the processing and is then erased.",
        "h_consent": "Processing based on your consent",
        "consent_intro": "Without your consent you cannot use the services the processing "
        "concerns. You can withdraw your consent at any time, as easily as you gave it; this "
        "does not affect processing that has already taken place.",
        "cap_consent": "Processing based on consent",
        "h_other_bases": "Processing on other legal bases",
        "other_bases_intro": "The following processing rests on a contract, a legal obligation "
        "or another legal basis than legitimate interest and consent.",
        "cap_other_bases": "Processing on other legal bases",
        "h_disclosure": "Disclosure of personal data",
        "disclosure_default": "Personal data may be disclosed to the recipients listed below.",
        "cap_recipients": "Recipients of personal data",
        "col_recipient": "Recipient",
        "col_role": "Role",
        "col_used_in": "Activities",
        "col_country": "Where the data is processed",
        "col_safeguard": "Safeguard for transfers",
        "col_more": "More information",
        "their_privacy": "The recipient's privacy information",
        "eea": "Within the EU/EEA",
        "outside_eea": "outside the EU/EEA",
        "h_transfers": "Transfers outside the EU/EEA",
        "transfers_default": "Some recipients process personal data outside the EU/EEA (in a "
        "third country). Such transfers rest on: {mechanisms}.",
        "h_updates": "Updates to this information",
        "updates_intro": "This information may be updated; significant changes are listed here.",
        "earlier_versions": "Earlier versions of this information",
        "h_security": "How personal data is protected",
        "security_default": "{org} has taken appropriate administrative, technical, "
        "organisational and physical security measures to protect your personal data against "
        "loss, misuse, unauthorised access, disclosure, alteration and destruction.",
        "h_rights": "Your data protection rights",
        "rights_intro": "As a data subject you have the following rights regarding the personal "
        "data {org} holds about you. Using them is free of charge.",
        "h_contact": "Contact {org} or {authority}",
        "contact_default": "For questions, to exercise your rights or about anything else "
        "concerning data protection, contact {org_gen} data protection officer. You can also "
        "complain about {org_gen} handling of personal data to {authority}.",
        "dpo": "{org_gen} data protection officer",
        "authority_fallback": "the supervisory authority",
        "h_other_notices": "Other processing and where to find information",
        "other_notices_intro": "{org} may process more personal data about you for other "
        "purposes; below is where to find more information.",
        "cap_other_notices": "Where to find information about other processing",
        "col_area": "Area",
        "col_where": "Where to find the information",
        "yes": "yes",
        "no": "no",
    },
}


@dataclass(frozen=True)
class DefaultRight:
    """Ombud's wording of one right, used where the register has none."""

    title: str
    text: str
    action: str
    conditions: tuple[str, ...] = ()
    after: str = ""


RIGHTS: dict[str, dict[Right, DefaultRight]] = {
    "sv": {
        Right.ACCESS: DefaultRight(
            "Begära tillgång till dina personuppgifter (registerutdrag)",
            "Du har rätt att få veta om {org} behandlar personuppgifter om dig och i så fall få "
            "en kopia av dem, ett så kallat registerutdrag, tillsammans med information om "
            "ändamål, kategorier av uppgifter, mottagare, lagringstid och varifrån uppgifterna "
            "kommer. Utdraget ges utan onödigt dröjsmål och senast inom en månad efter att "
            "begäran har tagits emot.",
            "Begär ett registerutdrag",
        ),
        Right.RECTIFICATION: DefaultRight(
            "Begära rättelse av felaktiga eller ofullständiga personuppgifter",
            "Om personuppgifter om dig är felaktiga eller ofullständiga har du rätt att få dem "
            "rättade eller kompletterade, med de begränsningar som följer av lag eller annan "
            "författning.",
            "Begär rättelse",
        ),
        Right.ERASURE: DefaultRight(
            "Begära radering",
            "Du har rätt att be {org} radera personuppgifter om dig i de fall som anges nedan. "
            "Radering sker utan onödigt dröjsmål. Uppgifter som {org} enligt lag måste spara "
            "raderas inte; då begränsas behandlingen i stället och du får veta varför.",
            "Begär radering",
            (
                "Personuppgifterna behövs inte längre för de ändamål de samlades in för.",
                (
                    "Du tar tillbaka det samtycke som behandlingen grundar sig på och det finns "
                    "ingen annan rättslig grund för behandlingen."
                ),
                (
                    "Du invänder mot behandlingen och det saknas berättigade skäl som väger "
                    "tyngre, eller du invänder mot direkt marknadsföring."
                ),
                "Personuppgifterna har behandlats på ett olagligt sätt.",
                "Personuppgifterna måste raderas för att uppfylla en rättslig förpliktelse.",
            ),
        ),
        Right.RESTRICTION: DefaultRight(
            "Begära begränsning av behandling",
            "Du har rätt att begära att {org} begränsar behandlingen av dina personuppgifter. "
            "Begränsning innebär att {org}, med undantag för lagring, bara får behandla "
            "uppgifterna med ditt samtycke, för att fastställa, göra gällande eller försvara "
            "rättsliga anspråk, för att skydda någon annans rättigheter eller av skäl som rör "
            "ett viktigt allmänintresse. Du kan begära begränsning i följande fall:",
            "Begär begränsning",
            (
                (
                    "Du bestrider att personuppgifterna är korrekta, under den tid {org} "
                    "kontrollerar dem."
                ),
                (
                    "Behandlingen är olaglig och du motsätter dig att uppgifterna raderas och vill "
                    "i stället att användningen begränsas."
                ),
                (
                    "{org} behöver inte längre uppgifterna, men du behöver dem för att fastställa, "
                    "göra gällande eller försvara rättsliga anspråk."
                ),
                (
                    "Du har invänt mot behandlingen och {org} utreder om {org_gen} skäl väger "
                    "tyngre än dina."
                ),
            ),
            "{org} meddelar dig innan en begränsning hävs.",
        ),
        Right.OBJECTION: DefaultRight(
            "Invända mot behandling som grundar sig på berättigat intresse",
            "Du har rätt att när som helst invända mot behandling som grundar sig på {org_gen} "
            "berättigade intresse, det vill säga där den rättsliga grunden är "
            "intresseavvägning. För att få fortsätta behandlingen måste {org} visa tvingande "
            "berättigade skäl som väger tyngre än dina intressen, rättigheter och friheter, "
            "eller att behandlingen behövs för att fastställa, göra gällande eller försvara "
            "rättsliga anspråk.",
            "Invänd mot en behandling",
            (),
            "Du har alltid rätt att invända mot direkt marknadsföring, och mot profilering som "
            "hör ihop med den. Då upphör den behandlingen omedelbart.",
        ),
        Right.PORTABILITY: DefaultRight(
            "Dataportabilitet",
            "Om en behandling grundar sig på samtycke eller avtal och sker automatiserat har du "
            "rätt att få de personuppgifter som du själv har lämnat i ett strukturerat, "
            "allmänt använt och maskinläsbart format och att överföra dem till en annan "
            "personuppgiftsansvarig, direkt från {org} när det är tekniskt möjligt.",
            "Begär dina uppgifter i maskinläsbart format",
        ),
        Right.WITHDRAW_CONSENT: DefaultRight(
            "Ta tillbaka ditt samtycke",
            "För de behandlingar som grundar sig på samtycke har du rätt att när som helst ta "
            "tillbaka ditt samtycke, lika enkelt som du gav det. Då får {org} inte längre "
            "behandla dina personuppgifter för det ändamålet. Behandling som skett innan du tog "
            "tillbaka samtycket påverkas inte.",
            "Ändra dina samtycken",
        ),
    },
    "en": {
        Right.ACCESS: DefaultRight(
            "Access to your personal data",
            "You have the right to know whether {org} processes personal data about you and, "
            "if so, to receive a copy of it together with information about the purposes, the "
            "categories of data, the recipients, how long it is kept and where it comes from. "
            "The copy is provided without undue delay and at the latest within one month of "
            "receiving your request.",
            "Request a copy of your data",
        ),
        Right.RECTIFICATION: DefaultRight(
            "Rectification of inaccurate or incomplete personal data",
            "If personal data about you is inaccurate or incomplete, you have the right to "
            "have it corrected or completed, within the limits set by law.",
            "Request rectification",
        ),
        Right.ERASURE: DefaultRight(
            "Erasure",
            "You have the right to ask {org} to erase personal data about you in the cases "
            "listed below. Erasure takes place without undue delay. Data that {org} must keep "
            "by law is not erased; its processing is restricted instead and you are told why.",
            "Request erasure",
            (
                "The personal data is no longer needed for the purposes it was collected for.",
                (
                    "You withdraw the consent the processing rests on and there is no other legal "
                    "basis for it."
                ),
                (
                    "You object to the processing and there are no overriding legitimate grounds, "
                    "or you object to direct marketing."
                ),
                "The personal data has been processed unlawfully.",
                "The personal data must be erased to comply with a legal obligation.",
            ),
        ),
        Right.RESTRICTION: DefaultRight(
            "Restriction of processing",
            "You have the right to ask {org} to restrict the processing of your personal "
            "data. Restriction means that {org}, apart from storing the data, may process it "
            "only with your consent, to establish, exercise or defend legal claims, to protect "
            "the rights of another person or for reasons of important public interest. You "
            "can ask for restriction in the following cases:",
            "Request restriction",
            (
                "You contest the accuracy of the personal data, while {org} verifies it.",
                (
                    "The processing is unlawful and you oppose erasure and ask for restriction "
                    "instead."
                ),
                (
                    "{org} no longer needs the data, but you need it to establish, exercise or "
                    "defend legal claims."
                ),
                (
                    "You have objected to the processing and {org} is examining whether its "
                    "grounds override yours."
                ),
            ),
            "{org} tells you before a restriction is lifted.",
        ),
        Right.OBJECTION: DefaultRight(
            "Objection to processing based on legitimate interest",
            "You have the right to object at any time to processing based on {org_gen} "
            "legitimate interest, that is where the legal basis is a balancing of interests. "
            "To continue, {org} must demonstrate compelling legitimate grounds that override "
            "your interests, rights and freedoms, or that the processing is needed to "
            "establish, exercise or defend legal claims.",
            "Object to processing",
            (),
            "You always have the right to object to direct marketing, and to profiling related "
            "to it. That processing then stops at once.",
        ),
        Right.PORTABILITY: DefaultRight(
            "Data portability",
            "Where processing rests on consent or a contract and is carried out by automated "
            "means, you have the right to receive the personal data you have provided in a "
            "structured, commonly used and machine-readable format, and to transmit it to "
            "another controller, directly from {org} where technically feasible.",
            "Request your data in a machine-readable format",
        ),
        Right.WITHDRAW_CONSENT: DefaultRight(
            "Withdrawing your consent",
            "Where processing rests on your consent, you have the right to withdraw it at any "
            "time, as easily as you gave it. {org} may then no longer process your personal "
            "data for that purpose. Processing that took place before the withdrawal is not "
            "affected.",
            "Change your consents",
        ),
    },
}

#: Legal basis -> (short name, plain words)
LEGAL_BASES: dict[str, dict[LegalBasis, tuple[str, str]]] = {
    "sv": {
        LegalBasis.CONSENT: ("Samtycke", "Ditt samtycke – du kan ta tillbaka det när som helst"),
        LegalBasis.CONTRACT: ("Avtal", "Behövs för att fullgöra ett avtal med dig"),
        LegalBasis.LEGAL_OBLIGATION: ("Rättslig förpliktelse", "Lagen kräver det"),
        LegalBasis.VITAL_INTEREST: (
            "Grundläggande intresse",
            "Behövs för att skydda någons liv eller hälsa",
        ),
        LegalBasis.PUBLIC_TASK: (
            "Allmänt intresse",
            ("Behövs för en uppgift av allmänt intresse eller myndighetsutövning"),
        ),
        LegalBasis.LEGITIMATE_INTEREST: (
            "Intresseavvägning",
            "Berättigat intresse (intresseavvägning) – du kan invända",
        ),
    },
    "en": {
        LegalBasis.CONSENT: ("Consent", "Your consent – you can withdraw it at any time"),
        LegalBasis.CONTRACT: ("Contract", "Needed to perform a contract with you"),
        LegalBasis.LEGAL_OBLIGATION: ("Legal obligation", "The law requires it"),
        LegalBasis.VITAL_INTEREST: (
            "Vital interests",
            "Needed to protect someone's life or health",
        ),
        LegalBasis.PUBLIC_TASK: (
            "Public task",
            "Needed for a task in the public interest or official authority",
        ),
        LegalBasis.LEGITIMATE_INTEREST: (
            "Legitimate interest",
            "Legitimate interest (balancing of interests) – you can object",
        ),
    },
}

SOURCES: dict[str, dict[Source, str]] = {
    "sv": {
        Source.DATA_SUBJECT: "Den registrerade",
        Source.SUPPLIERS: "Leverantörer",
        Source.PUBLIC_SOURCES: "Offentliga källor",
    },
    "en": {
        Source.DATA_SUBJECT: "From you (the data subject)",
        Source.SUPPLIERS: "Suppliers",
        Source.PUBLIC_SOURCES: "Public sources",
    },
}

ROLES: dict[str, dict[RecipientRole, str]] = {
    "sv": {
        RecipientRole.PROCESSOR: "Personuppgiftsbiträde",
        RecipientRole.INDEPENDENT_CONTROLLER: "Självständigt personuppgiftsansvarig",
        RecipientRole.JOINT_CONTROLLER: "Gemensamt personuppgiftsansvarig",
        RecipientRole.AUTHORITY: "Myndighet",
    },
    "en": {
        RecipientRole.PROCESSOR: "Processor",
        RecipientRole.INDEPENDENT_CONTROLLER: "Independent controller",
        RecipientRole.JOINT_CONTROLLER: "Joint controller",
        RecipientRole.AUTHORITY: "Public authority",
    },
}

MECHANISMS: dict[str, dict[TransferMechanism, str]] = {
    "sv": {
        TransferMechanism.ADEQUACY: "EU-kommissionens beslut om adekvat skyddsnivå",
        TransferMechanism.SCCS: "EU-kommissionens standardavtalsklausuler",
        TransferMechanism.BCRS: "bindande företagsbestämmelser",
        TransferMechanism.DEROGATION: "undantag för särskilda situationer (artikel 49)",
    },
    "en": {
        TransferMechanism.ADEQUACY: "an EU Commission adequacy decision",
        TransferMechanism.SCCS: "the EU Commission's standard contractual clauses",
        TransferMechanism.BCRS: "binding corporate rules",
        TransferMechanism.DEROGATION: "a derogation for specific situations (Article 49)",
    },
}

RETENTION_STARTS: dict[str, dict[RetentionStart, str]] = {
    "sv": {
        RetentionStart.COLLECTED: "från insamlingen",
        RetentionStart.LAST_ACTIVITY: "från din senaste aktivitet",
        RetentionStart.CASE_CLOSED: "från att ärendet avslutades",
        RetentionStart.CONSENT_WITHDRAWN: "från att du tog tillbaka ditt samtycke",
    },
    "en": {
        RetentionStart.COLLECTED: "from collection",
        RetentionStart.LAST_ACTIVITY: "from your last activity",
        RetentionStart.CASE_CLOSED: "from when the case was closed",
        RetentionStart.CONSENT_WITHDRAWN: "from when you withdrew your consent",
    },
}

RETENTION_UNTIL: dict[str, tuple[str, str]] = {
    # (until consent is withdrawn, ... or earlier if consent is withdrawn)
    "sv": ("Tills du tar tillbaka ditt samtycke", "eller tills du tar tillbaka ditt samtycke"),
    "en": ("Until you withdraw your consent", "or until you withdraw your consent"),
}

#: unit -> (singular, plural)
DURATION_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "sv": {
        "years": ("år", "år"),
        "months": ("månad", "månader"),
        "weeks": ("vecka", "veckor"),
        "days": ("dag", "dagar"),
    },
    "en": {
        "years": ("year", "years"),
        "months": ("month", "months"),
        "weeks": ("week", "weeks"),
        "days": ("day", "days"),
    },
}
AND = {"sv": "och", "en": "and"}
OR = {"sv": "eller", "en": "or"}

LANGUAGE_NAMES = {
    "sv": "Svenska",
    "en": "English",
    "fi": "Suomi",
    "no": "Norsk",
    "nb": "Norsk bokmål",
    "da": "Dansk",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "so": "Soomaali",
    "fa": "فارسی",
    "pl": "Polski",
    "is": "Íslenska",
}

COUNTRIES: dict[str, dict[str, str]] = {
    "sv": {
        "US": "USA",
        "GB": "Storbritannien",
        "CH": "Schweiz",
        "CA": "Kanada",
        "JP": "Japan",
        "IN": "Indien",
        "AU": "Australien",
        "KR": "Sydkorea",
        "SE": "Sverige",
        "IE": "Irland",
        "DE": "Tyskland",
        "NL": "Nederländerna",
        "FI": "Finland",
        "DK": "Danmark",
        "NO": "Norge",
        "FR": "Frankrike",
    },
    "en": {
        "US": "United States",
        "GB": "United Kingdom",
        "CH": "Switzerland",
        "CA": "Canada",
        "JP": "Japan",
        "IN": "India",
        "AU": "Australia",
        "KR": "South Korea",
        "SE": "Sweden",
        "IE": "Ireland",
        "DE": "Germany",
        "NL": "Netherlands",
        "FI": "Finland",
        "DK": "Denmark",
        "NO": "Norway",
        "FR": "France",
    },
}


def builtin(lang: str) -> str:
    """The language whose built-in wording is used for ``lang``."""
    return lang if lang in BUILTIN else FALLBACK


def genitive(name: str, lang: str) -> str:
    """``Almi`` -> ``Almis`` (sv) / ``Almi's`` (en)."""
    if builtin(lang) == "sv":
        return name if name[-1:].lower() in ("s", "x", "z") else f"{name}s"
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``{org}``-style placeholders; unknown ones stay as written."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def ui(lang: str, values: Mapping[str, str]) -> dict[str, str]:
    """Every UI string in ``lang`` with the placeholders filled in."""
    return {key: fill(value, values) for key, value in UI[builtin(lang)].items()}


def default_right(lang: str, right: Right) -> DefaultRight:
    return RIGHTS[builtin(lang)][right]


def legal_basis(lang: str, basis: LegalBasis) -> tuple[str, str]:
    """(short name, plain words) of a legal basis."""
    return LEGAL_BASES[builtin(lang)][basis]


def source(lang: str, value: Source) -> str:
    return SOURCES[builtin(lang)][value]


def role(lang: str, value: RecipientRole) -> str:
    return ROLES[builtin(lang)][value]


def mechanism(lang: str, value: TransferMechanism) -> str:
    return MECHANISMS[builtin(lang)][value]


def retention_start(lang: str, value: RetentionStart) -> str:
    return RETENTION_STARTS[builtin(lang)][value]


def retention_until(lang: str) -> tuple[str, str]:
    return RETENTION_UNTIL[builtin(lang)]


def duration(lang: str, parts: Mapping[str, int]) -> str:
    """``{"months": 24}`` -> ``24 månader`` / ``24 months``."""
    units = DURATION_UNITS[builtin(lang)]
    words = [
        f"{count} {units[unit][0] if count == 1 else units[unit][1]}"
        for unit, count in parts.items()
        if count
    ]
    return join(lang, words)


def join(lang: str, items: Sequence[str], *, alternatives: bool = False) -> str:
    """``["A", "B", "C"]`` -> ``A, B och C`` / ``A, B and C`` (``or`` for alternatives)."""
    if len(items) <= 1:
        return "".join(items)
    word = (OR if alternatives else AND)[builtin(lang)]
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def country(lang: str, code: str) -> str:
    return COUNTRIES[builtin(lang)].get(code, code)
