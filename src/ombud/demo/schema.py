"""The demo systems' tables: SQLAlchemy Core metadata, one per system, portable types.

The same metadata creates the tables on SQLite, PostgreSQL and MariaDB, so a
test of a connector can run against any of them. Every system is its own
database in the demo (one SQLite file each); :func:`ombud.demo.build_database`
puts all of them into one server database, which works because no two systems
share a table name. ``examples/almi/systems.yaml`` annotates these tables for
the register; a test checks that the two agree.

Timestamps are naive and in UTC. Money is whole kronor (``Integer``): Swedish
invoices round to whole kronor, and a ``Numeric`` column would make SQLite warn
on every read.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

__all__ = ["METADATA", "SYSTEM_FILES", "TABLES", "table_order"]


def _id() -> Column[int]:
    # autoincrement: other code inserts rows without ids after the demo is built
    return Column("id", Integer, primary_key=True, autoincrement=True)


# --- CRM: persons, their companies, customer service, meetings, networks --------------------

crm = MetaData()

persons = Table(
    "persons",
    crm,
    _id(),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    # 12 digits, YYYYMMDDNNNC: a personnummer or a samordningsnummer (day + 60)
    Column("personal_number", String(12)),
    Column("email", String(254)),
    # as the CRM's users typed it: E.164 mostly, Swedish written forms too
    Column("phone", String(32)),
    Column("street_address", String(200)),
    Column("postal_code", String(6)),
    Column("city", String(100)),
    Column("birth_date", Date),
    Column("gender", String(10)),
    # skyddade personuppgifter: no postal address, never in marketing selections
    Column("protected_identity", Boolean, nullable=False, default=False),
    Column("restricted", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_activity_at", DateTime, nullable=False),
    # who recommended Almi to this person; the demo has one cycle (A -> B -> A)
    Column("referred_by_person_id", Integer, ForeignKey("persons.id")),
    Index("ix_persons_email", "email"),
    Index("ix_persons_phone", "phone"),
    Index("ix_persons_personal_number", "personal_number"),
)

companies = Table(
    "companies",
    crm,
    _id(),
    Column("name", String(200), nullable=False),
    # 10 digits for a legal person; a sole trader's (enskild firma) is the owner's
    # personnummer, 12 digits
    Column("orgnr", String(12), nullable=False),
    # AB, HB, EK, EF (enskild firma)
    Column("legal_form", String(2), nullable=False),
    # set only for a sole trader, whose company is the person
    Column("owner_person_id", Integer, ForeignKey("persons.id")),
    Column("created_at", DateTime, nullable=False),
    Index("ix_companies_orgnr", "orgnr"),
    Index("ix_companies_owner_person_id", "owner_person_id"),
)

company_contacts = Table(
    "company_contacts",
    crm,
    Column("person_id", Integer, ForeignKey("persons.id"), primary_key=True),
    Column("company_id", Integer, ForeignKey("companies.id"), primary_key=True),
    Column("role", String(50), nullable=False),
    Column("title", String(100)),
    Index("ix_company_contacts_company_id", "company_id"),
)

cases = Table(
    "cases",
    crm,
    _id(),
    Column("person_id", Integer, ForeignKey("persons.id")),
    # email, phone, chat or form
    Column("channel", String(10), nullable=False),
    Column("subject", String(200), nullable=False),
    # free text as a handler wrote it: sometimes holds phone numbers, e-mail
    # addresses or a personnummer
    Column("body", Text, nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("restricted", Boolean, nullable=False, default=False),
    Index("ix_cases_person_id", "person_id"),
)

meetings = Table(
    "meetings",
    crm,
    _id(),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("company_id", Integer, ForeignKey("companies.id")),
    Column("adviser", String(100), nullable=False),
    Column("booked_at", DateTime, nullable=False),
    Column("starts_at", DateTime, nullable=False),
    Column("notes", Text),
    # the cookie banner's id of the browser that booked on the web, if it had one
    Column("visitor_id", String(36)),
    Index("ix_meetings_person_id", "person_id"),
    Index("ix_meetings_visitor_id", "visitor_id"),
)

network_members = Table(
    "network_members",
    crm,
    _id(),
    # null for members who are not (yet) in the CRM: they are known by e-mail
    Column("person_id", Integer, ForeignKey("persons.id")),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("network", String(100), nullable=False),
    Column("competence", String(100)),
    Column("joined_at", DateTime, nullable=False),
    Column("left_at", DateTime),
    Index("ix_network_members_person_id", "person_id"),
    Index("ix_network_members_email", "email"),
)

# --- newsletter: the mailing tool's list --------------------------------------------------

newsletter = MetaData()

newsletter_subscribers = Table(
    "newsletter_subscribers",
    newsletter,
    _id(),
    # as typed in the sign-up form, mixed case included
    Column("email", String(254), nullable=False),
    Column("name", String(200)),
    Column("subscribed_at", DateTime, nullable=False),
    # double opt-in: null until the confirmation link is followed
    Column("confirmed_at", DateTime),
    Column("unsubscribed_at", DateTime),
    # proof of the sign-up (Art. 7(1)): where it came from
    Column("signup_ip", String(45)),
    Column("visitor_id", String(36)),
    Index("ix_newsletter_subscribers_email", "email"),
)

# --- survey: the customer satisfaction tool -----------------------------------------------

survey = MetaData()

survey_answers = Table(
    "survey_answers",
    survey,
    _id(),
    # the CRM's persons.id when the survey was sent to a known customer ...
    Column("person_id", Integer),
    # ... else the address the survey link was mailed to
    Column("email", String(254)),
    Column("score", SmallInteger, nullable=False),
    Column("comment", Text),
    Column("answered_at", DateTime, nullable=False),
    Index("ix_survey_answers_person_id", "person_id"),
    Index("ix_survey_answers_email", "email"),
)

# --- accounting: invoices under Bokföringslagen -------------------------------------------

accounting = MetaData()

invoices = Table(
    "invoices",
    accounting,
    _id(),
    # the CRM's ids; another system, so no foreign keys
    Column("company_id", Integer),
    Column("person_id", Integer),
    Column("customer_name", String(200), nullable=False),
    # a private customer's personnummer, 12 digits
    Column("personal_number", String(12)),
    # NNNNNN-NNNN as printed on the invoice; a sole trader's is YYMMDD-NNNC
    Column("orgnr", String(13)),
    Column("amount_sek", Integer, nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("fiscal_year", SmallInteger, nullable=False),
    # rows under legal hold are restricted instead of erased
    Column("restricted", Boolean, nullable=False, default=False),
    Index("ix_invoices_personal_number", "personal_number"),
    Index("ix_invoices_orgnr", "orgnr"),
    Index("ix_invoices_person_id", "person_id"),
)

# --- telemarketing: call lists bought from public registers -------------------------------

telemarketing = MetaData()

call_list = Table(
    "call_list",
    telemarketing,
    _id(),
    Column("company_name", String(200), nullable=False),
    Column("orgnr", String(13), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("title", String(100)),
    # national written form, as list suppliers deliver it
    Column("phone", String(32), nullable=False),
    Column("source", String(100), nullable=False),
    Column("listed_at", DateTime, nullable=False),
    # when the number was washed against NIX-Telefon, and whether it was listed there
    Column("nix_checked_at", DateTime),
    Column("nix_listed", Boolean, nullable=False, default=False),
    Column("called_at", DateTime),
    Column("outcome", String(50)),
    Index("ix_call_list_phone", "phone"),
    Index("ix_call_list_orgnr", "orgnr"),
)

#: system id -> its tables
METADATA: dict[str, MetaData] = {
    "crm": crm,
    "newsletter": newsletter,
    "survey": survey,
    "accounting": accounting,
    "telemarketing": telemarketing,
}

#: system id -> the SQLite file it lives in, relative to the register
SYSTEM_FILES: dict[str, str] = {system: f"{system}.db" for system in METADATA}

#: every table by name, across systems
TABLES: dict[str, Table] = {
    name: table for metadata in METADATA.values() for name, table in metadata.tables.items()
}


def table_order(metadata: MetaData) -> list[Table]:
    """The system's tables in an order that satisfies their foreign keys."""
    return list(metadata.sorted_tables)
