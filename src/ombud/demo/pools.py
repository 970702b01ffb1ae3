"""Value pools for synthetic people: drawn once from Faker, then sampled per row.

Faker is realistic but slow: one ``first_name()`` costs about 50 µs, so
calling it per field per row would take minutes for a million people. The
pools below are drawn from Faker's ``sv_SE`` providers once (a few thousand
values, keeping Faker's name frequencies) and rows sample them with
``random.Random``, which costs well under a microsecond per value.

The free texts (case notes, meeting notes, survey comments) are Swedish
templates written for the demo; ``{...}`` slots are filled per row with the
person's own data, so a note mentions the right phone number or e-mail address.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from random import Random
from typing import TypeVar

from faker import Faker

__all__ = ["Pools", "ascii_name", "make_pools", "pick", "seeded"]

T = TypeVar("T")


def seeded(seed: int, name: str) -> Random:
    """The generator for one part of the demo: the same ``(seed, name)``, the same values,
    whatever else was drawn before.
    """
    # not for secrets: synthetic data must be reproducible
    return Random(f"{seed}:{name}")  # noqa: S311


def pick(random: Callable[[], float], values: Sequence[T]) -> T:
    """One of ``values``, chosen with ``random`` (a bound ``Random.random``)."""
    return values[int(random() * len(values))]


#: å, ä, ö and friends as they end up in e-mail addresses
_ASCII = str.maketrans(
    {
        "å": "a",
        "ä": "a",
        "ö": "o",
        "é": "e",
        "è": "e",
        "ü": "u",
        "á": "a",
        "ø": "o",
        "æ": "ae",
        "ß": "ss",
        " ": "",
        "'": "",
    }
)


@cache
def ascii_name(name: str) -> str:
    """A name as it appears in an e-mail address: lower case, no diacritics, no spaces."""
    return name.lower().translate(_ASCII)


@dataclass(frozen=True)
class Pools:
    """Values rows are sampled from; built by :func:`make_pools`."""

    female_first_names: list[str]
    male_first_names: list[str]
    last_names: list[str]
    streets: list[str]
    postal_codes: list[str]
    cities: list[str]


@lru_cache(maxsize=4)
def make_pools(seed: int, *, size: int = 4000) -> Pools:
    """Pools of ``size`` values each, drawn from Faker's ``sv_SE`` locale with ``seed``.

    Cached: drawing them costs about half a second, and nobody changes a pool.
    """
    fake = Faker("sv_SE")
    fake.seed_instance(seed)
    streets = [
        # Faker's building numbers start at 0; nobody lives at Storgatan 0
        f"{fake.street_name()} {int(fake.building_number()) % 150 + 1}"
        for _ in range(size)
    ]
    return Pools(
        female_first_names=[fake.first_name_female() for _ in range(size)],
        male_first_names=[fake.first_name_male() for _ in range(size)],
        last_names=[fake.last_name() for _ in range(size)],
        streets=streets,
        # NNN NN, 100 00 to 984 99
        postal_codes=[
            f"{code // 100} {code % 100:02d}"
            for code in (10_000 + fake.random_int(0, 88_499) for _ in range(size))
        ],
        cities=[fake.city() for _ in range(size // 4)],
    )


# --- fixed pools ------------------------------------------------------------------------------

#: Personal mail domains. Reserved names only (RFC 2606, RFC 6761): demo mail must never
#: reach a real mailbox.
PERSONAL_DOMAINS = (
    ["example.com"] * 8
    + ["example.net"] * 5
    + ["example.org"] * 3
    + ["mail.example"] * 2
    + ["post.example"] * 2
)
#: Company mail addresses are name@<company>.example (the reserved .example TLD).
COMPANY_TLD = "example"

#: Words in company names; a sole trader's name is the owner's name and one of these.
TRADES = (
    "Bygg",
    "Konsult",
    "Design",
    "Fastigheter",
    "Teknik",
    "Redovisning",
    "Café",
    "Måleri",
    "El",
    "VVS",
    "Transport",
    "IT",
    "Invest",
    "Hälsa",
    "Städ",
    "Frisör",
    "Trädgård",
    "Media",
    "Event",
    "Logistik",
    "Snickeri",
    "Foto",
    "Kommunikation",
    "Juridik",
    "Skog",
    "Mat",
    "Textil",
    "Energi",
    "Marin",
    "Data",
)

#: Legal forms with the first digit of their organisation numbers (Bolagsverket's groups).
LEGAL_FORMS = (("AB", "5"), ("HB", "9"), ("EK", "7"))

CONTACT_ROLES = (
    ("ägare", "Ägare"),
    ("vd", "VD"),
    ("ekonomi", "Ekonomiansvarig"),
    ("styrelse", "Styrelseledamot"),
    ("kontakt", "Kontaktperson"),
    ("kontakt", None),
    ("vd", "Verkställande direktör"),
    ("försäljning", "Försäljningschef"),
)

CHANNELS = ("email", "email", "email", "phone", "phone", "chat", "form")

CASE_SUBJECTS = (
    "Fråga om lån",
    "Företagslån",
    "Mikrolån",
    "Rådgivning inför start",
    "Affärsutveckling",
    "Innovationsstöd",
    "Fråga om faktura",
    "Boka möte med rådgivare",
    "Exportrådgivning",
    "Mentorprogram",
    "Ändrade kontaktuppgifter",
    "Avsluta nyhetsbrev",
    "Klagomål",
    "Verifikationsfrågor",
    "Fråga om ränta",
    "Amortering",
    "Registerutdrag",
)

#: Case notes; {first}, {phone}, {email}, {pnr}, {other_phone} and {other_email} are filled
#: in per case. Most notes hold nothing but the matter, as real notes do.
CASE_BODIES = (
    "Kunden vill veta mer om villkoren för företagslån och vilka säkerheter som krävs.",
    "Har skickat information om mikrolån. Kunden återkommer efter att ha pratat med banken.",
    "Fråga om amorteringsfri period. Hänvisat till rådgivaren i regionen.",
    "{first} ringde och ville boka ett möte om affärsplanen. Bokat via webben.",
    "Kunden har fått fel belopp på fakturan. Skickat vidare till ekonomi.",
    "Önskar information om innovationsstöd för en prototyp. Skickat länk till ansökan.",
    "Hej! Jag heter {first} och vill ha hjälp med finansiering. Nå mig på {phone}.",
    "Kunden bad oss ringa upp på {other_phone} i stället för numret vi har.",
    "Svar ska skickas till {email}, inte till den gamla adressen.",
    "Kunden vill att vi använder {other_email} framöver.",
    "Legitimerade kunden i telefon, personnummer {pnr}. Ärendet gäller lånets löptid.",
    "Kunden uppgav personnummer {pnr} och vill ha ett registerutdrag.",
    "Chatt: fråga om exportrådgivning, hänvisad till Business Sweden och vår rådgivare.",
    "Formulär: vill gå med i mentorprogrammet som adept.",
    "Klagomål på långa handläggningstider. Bett om ursäkt och återkommit med besked.",
    "Kunden är nöjd med rådgivningen och vill boka ett uppföljningsmöte.",
)

MEETING_NOTES = (
    "Genomgång av affärsplan och likviditetsbudget.",
    "Diskuterade finansieringsbehov för ny maskin, cirka 400 000 kr.",
    "Första mötet. Kunden har en idé inom e-handel och vill starta under våren.",
    "Uppföljning av lån. Inga betalningsproblem.",
    "Exportplaner för Norge och Tyskland. Ta kontakt igen om tre månader.",
    "Kunden vill anställa två personer; pratade om rekryteringsstöd.",
    "{first} önskar att vi mejlar underlaget till {email}.",
    None,
    None,
)

SURVEY_COMMENTS = (
    "Mycket bra bemötande!",
    "Snabbt svar, tack.",
    "Rådgivaren var kunnig och engagerad.",
    "Det tog lång tid att få svar.",
    "Svårt att hitta rätt på hemsidan.",
    "Bra möte, men jag hade velat ha mer konkreta råd.",
    "Ring mig gärna på {phone} så berättar jag mer.",
    "Toppen!",
    "Inget att tillägga.",
    None,
    None,
    None,
    None,
    None,
)

NETWORKS = (
    "Almi Mentorsnätverk",
    "Nätverk för kvinnliga företagare",
    "Exportnätverket",
    "Innovationsnätverket",
    "Tillväxtnätverket",
    "Nätverk för unga företagare",
)

COMPETENCES = (
    "mentor",
    "adept",
    "finansiering",
    "marknadsföring",
    "export",
    "digitalisering",
    "hållbarhet",
    "ledarskap",
    None,
)

ADVISERS = (
    "Karin Lundqvist",
    "Johan Bergström",
    "Maria Ek",
    "Erik Sandberg",
    "Sara Holm",
    "Anders Nyberg",
    "Lena Åberg",
    "Mikael Strand",
    "Eva Lindahl",
    "Per Sjöberg",
)

CALL_SOURCES = ("Bolagsverket", "SCB:s företagsregister", "UC", "Bisnode")

CALL_OUTCOMES = ("intresserad", "ej intresserad", "ring senare", "inget svar", "bokat möte")

#: Paths of almi.se as they appear in access logs and events
PATHS = (
    "/",
    "/",
    "/",
    "/lan/",
    "/lan/foretagslan/",
    "/lan/mikrolan/",
    "/radgivning/",
    "/radgivning/affarsutveckling/",
    "/kontakt/",
    "/boka-mote/",
    "/nyhetsbrev/",
    "/om-almi/",
    "/om-almi/integritet/",
    "/natverk/",
    "/innovation/",
    "/press/",
    "/static/css/site.css",
    "/static/js/site.js",
    "/favicon.ico",
    "/search?q=l%C3%A5n",
)

REFERRERS = (
    "-",
    "-",
    "-",
    "https://www.google.com/",
    "https://www.google.se/",
    "https://www.bing.com/",
    "https://www.linkedin.com/",
    "https://www.almi.se/",
    "https://www.almi.se/lan/",
)

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",  # noqa: E501
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",  # noqa: E501
    "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",  # noqa: E501
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",  # noqa: E501
)

EVENT_TYPES = ("page_view",) * 8 + ("consent", "form_submit")
