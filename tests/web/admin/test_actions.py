"""Every action of the case page, end to end on the demo systems, through the HTTP routes.

Each action is a CSRF-checked POST that the right roles may take and no other
(the table of roles and actions below), changes the request through the rights
service, and comes back to the case page with a message; a domain error is a
clear message on the page, never a traceback.
"""

from __future__ import annotations

import io
import re
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_pages import (  # noqa: F401 - the fixtures are used by name
    Console,
    built_demo_fixture,
    console_fixture,
    everywhere,
    open_console,
    post,
)

from ombud import audit, store
from ombud.rights.models import Extract, ManualTask, RequestState, Restriction, Suppression
from ombud.store.apikeys import list_keys
from ombud.store.models import AuditEntry
from ombud.store.users import Role, list_users
from ombud.web.admin.auth import PERMISSIONS


def actions_of(console: Console, request_id: str) -> list[tuple[str, str]]:
    """(action, actor) of the request's audit entries, in order."""
    with store.transaction(console.engine) as session:
        return [
            (e.action, e.actor)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_id == f"request:{request_id}")
                .order_by(AuditEntry.seq)
            )
        ]


def done(answer: httpx2.Response, request_id: str, key: str) -> None:
    """The action redirected back to the case page with the message ``key`` (if given)."""
    assert answer.status_code == 303, answer.text[:2000]
    location = answer.headers["location"]
    assert location.startswith(f"/admin/requests/{request_id}?")
    assert not key or f"done={key}" in location


def follow(browser: TestClient, answer: httpx2.Response) -> str:
    page = browser.get(answer.headers["location"])
    assert page.status_code == 200
    return page.text


# --- verify, run, download -----------------------------------------------------------------


def test_verify_run_and_download_an_access_request(console: Console) -> None:
    person = console.person("everywhere")
    request_id = console.request("access", everywhere(console))
    handler = console.client(Role.HANDLER)
    base = f"/admin/requests/{request_id}"

    # Verifying needs a note saying how.
    refused = post(handler, f"{base}/verify?lang=en", {"verify_note": " "})
    assert refused.status_code == 400
    assert "say how the identity was verified" in refused.text
    assert "Traceback" not in refused.text

    verified = post(
        handler, f"{base}/verify?lang=en", {"verify_note": "Called back on the CRM number"}
    )
    done(verified, request_id, "verified")
    assert "The identity is confirmed." in follow(handler, verified)
    assert console.load(request_id).state == RequestState.VERIFIED

    ran = post(handler, f"{base}/run?lang=en")
    done(ran, request_id, "run")
    page = follow(handler, ran)
    assert "The request has run." in page
    assert "Completed" in page
    assert "Package the answer" in page
    assert console.load(request_id).state == RequestState.COMPLETED
    # The answer mail went out with the link.
    assert any("/privacy/request/answer/" in m for m in console.mails())

    download = post(handler, f"{base}/download?lang=en")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert person["email"] in archive.read("registerutdrag.html").decode()

    trail = actions_of(console, request_id)
    handler_id = next(actor for action, actor in trail if action == "request.verified")
    assert handler_id.startswith("user:")
    assert ("request.extract_downloaded", handler_id) in trail
    # The page says who did what, and nothing in the audit log holds the address.
    assert all(person["email"] not in f"{a} {b}" for a, b in trail)

    # A viewer may read the case but not download the answer.
    viewer = console.client(Role.VIEWER)
    assert post(viewer, f"{base}/download").status_code == 403


def test_a_console_download_is_audited_in_its_own_words(console: Console) -> None:
    person = console.person("everywhere")
    request_id = console.request("access", everywhere(console), verified=True)
    unpackaged = console.request("access", everywhere(console), verified=True)
    base = f"/admin/requests/{request_id}"
    handler = console.client(Role.HANDLER)
    viewer = console.client(Role.VIEWER)
    done(post(handler, f"{base}/run?lang=en"), request_id, "run")

    def extract_row() -> tuple[object, ...]:
        with store.transaction(console.engine) as session:
            extract = session.scalars(select(Extract).where(Extract.request_id == request_id)).one()
            return (extract.token_digest, extract.expires_at, extract.downloaded_at)

    with store.transaction(console.engine) as session:
        handler_id = next(u.id for u in list_users(session) if u.role == Role.HANDLER)
        last = session.scalar(select(func.max(AuditEntry.seq)))
    extract = extract_row()

    # Refused, or nothing to download: nothing is audited.
    assert post(viewer, f"{base}/download").status_code == 403
    missing = post(handler, f"/admin/requests/{unpackaged}/download?lang=en")
    assert missing.status_code == 404
    assert "Traceback" not in missing.text

    answer = post(handler, f"{base}/download")
    assert answer.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    with store.transaction(console.engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.seq > last)).all()
        assert audit.verify(session).ok
    assert [(e.actor, e.action, e.object_id, e.counts) for e in entries] == [
        (f"user:{handler_id}", "request.extract_downloaded", f"request:{request_id}", None)
    ]
    written = " ".join(f"{e.actor} {e.action} {e.object_id} {e.counts}" for e in entries)
    for value in (person["email"], person["phone"], person["personal_number"]):
        assert str(value) not in written
    # The handler's copy leaves the person's own link as it was: still unused.
    assert extract_row() == extract
    assert extract[2] is None


def test_run_goes_to_the_worker_when_there_is_one(built_demo: Path, tmp_path: Path) -> None:
    with open_console(built_demo, tmp_path, worker="inline") as console:
        request_id = console.request("access", everywhere(console), verified=True)
        handler = console.client(Role.HANDLER)
        queued = post(handler, f"/admin/requests/{request_id}/run?lang=en")
        done(queued, request_id, "queued")
        assert "running in the background" in follow(handler, queued)
        deadline = time.monotonic() + 60
        while console.load(request_id).state != RequestState.COMPLETED:
            assert time.monotonic() < deadline, "the worker never completed the request"
            time.sleep(0.1)


def test_send_the_answer_again(console: Console) -> None:
    request_id = console.request("access", everywhere(console), verified=True)
    handler = console.client(Role.HANDLER)
    base = f"/admin/requests/{request_id}"
    # Nothing packaged yet: a clear message.
    early = post(handler, f"{base}/send?lang=en")
    assert early.status_code == 409
    assert "has no packaged answer yet" in early.text
    done(post(handler, f"{base}/run?lang=en"), request_id, "run")
    before = len(console.mails())
    sent = post(handler, f"{base}/send?lang=en")
    done(sent, request_id, "sent")
    assert "The link to the answer is sent." in follow(handler, sent)
    assert len(console.mails()) == before + 1
    # The run mailed the link (the worker); the handler sent it again, in their own name.
    sent_by = [
        actor
        for action, actor in actions_of(console, request_id)
        if action == "request.answer_sent"
    ]
    assert sent_by[-1].startswith("user:")


def test_found_data_is_shown_and_rectified(console: Console) -> None:
    person = console.person("everywhere")
    request_id = console.request("rectification", everywhere(console), verified=True)
    handler = console.client(Role.HANDLER)
    base = f"/admin/requests/{request_id}"
    done(post(handler, f"{base}/run?lang=en"), request_id, "run")
    assert console.load(request_id).state == RequestState.AWAITING
    page = handler.get(f"{base}?lang=en").text
    assert person["email"] in page  # the found data, decrypted for the handler
    assert "Rectify data" in page
    field = re.search(r'name="(fix-(\d+)-first_name)"', page)
    assert field is not None

    empty = post(handler, f"{base}/rectify?lang=en", {})
    assert empty.status_code == 400
    assert "Enter at least one corrected value." in empty.text

    fixed = post(handler, f"{base}/rectify?lang=en", {field.group(1): "Janne"})
    done(fixed, request_id, "rectified")
    with sqlite3.connect(console.directory / "crm.db") as crm:
        names = crm.execute(
            "SELECT first_name FROM persons WHERE email = ?", (person["email"],)
        ).fetchall()
    assert names == [("Janne",)]
    assert "request.rectification_decided" in [a for a, _ in actions_of(console, request_id)]


def test_a_viewer_sees_no_found_data(console: Console) -> None:
    person = console.person("everywhere")
    request_id = console.request("rectification", everywhere(console), verified=True)
    handler = console.client(Role.HANDLER)
    done(post(handler, f"/admin/requests/{request_id}/run"), request_id, "run")
    viewer = console.client(Role.VIEWER).get(f"/admin/requests/{request_id}?lang=en").text
    # The viewer may view the controller's requests, so sees them; but has no form to change.
    assert person["email"] in viewer
    assert "/rectify" not in viewer


def test_choose_rows_of_an_ambiguous_match(console: Console) -> None:
    shared = console.person("shared_email")
    request_id = console.request("access", [("email", shared["email"])], verified=True)
    handler = console.client(Role.HANDLER)
    base = f"/admin/requests/{request_id}"
    done(post(handler, f"{base}/run?lang=en"), request_id, "run")
    assert console.load(request_id).state == RequestState.AWAITING
    page = handler.get(f"{base}?lang=en").text
    assert "Choose the person&#39;s records" in page
    rows = re.findall(r'name="row" value="([^"]+)"', page)
    assert len(rows) >= 2
    system = re.search(r'name="system" value="([^"]+)"', page)
    assert system is not None
    chosen = post(
        handler,
        f"{base}/choose?lang=en",
        {"system": system.group(1), "row": rows[0].replace("&#34;", '"')},
    )
    done(chosen, request_id, "rows_chosen")
    assert "request.match_decided" in [a for a, _ in actions_of(console, request_id)]
    assert "Choose the person&#39;s records" not in follow(handler, chosen)


# --- the DPO's decisions --------------------------------------------------------------------


def test_decide_an_objection(console: Console) -> None:
    request_id = console.request(
        "objection", everywhere(console), verified=True, activities=["customer-satisfaction"]
    )
    dpo = console.client(Role.DPO)
    base = f"/admin/requests/{request_id}"
    done(post(dpo, f"{base}/run?lang=en"), request_id, "run")
    assert console.load(request_id).state == RequestState.AWAITING
    page = dpo.get(f"{base}?lang=en").text
    assert "Decide the objection: Measuring customer satisfaction" in page

    handler = console.client(Role.HANDLER)
    assert "Decide the objection" not in handler.get(f"{base}?lang=en").text
    denied = post(
        handler,
        f"{base}/objection",
        {"activity": "customer-satisfaction", "outcome": "upheld", "grounds": "x"},
    )
    assert denied.status_code == 403

    no_reasons = post(
        dpo,
        f"{base}/objection?lang=en",
        {"activity": "customer-satisfaction", "outcome": "upheld", "grounds": ""},
    )
    assert no_reasons.status_code == 400
    assert "give the reasons for the decision" in no_reasons.text

    decided = post(
        dpo,
        f"{base}/objection?lang=en",
        {
            "activity": "customer-satisfaction",
            "outcome": "upheld",
            "grounds": "No compelling grounds outweigh the person's interests",
        },
    )
    done(decided, request_id, "objection")
    page = follow(dpo, decided)
    assert "Uphold: the processing stops" in page
    assert "No compelling grounds outweigh" in page
    assert console.load(request_id).state == RequestState.COMPLETED
    with store.transaction(console.engine) as session:
        suppressed = session.scalar(
            select(func.count())
            .select_from(Suppression)
            .where(
                Suppression.request_id == request_id,
                Suppression.activity == "customer-satisfaction",
            )
        )
    assert suppressed
    assert "request.objection_upheld" in [a for a, _ in actions_of(console, request_id)]


def test_extend_with_reasons(console: Console) -> None:
    request_id = console.request("access", everywhere(console))
    dpo = console.client(Role.DPO)
    base = f"/admin/requests/{request_id}"
    empty = post(dpo, f"{base}/extend?lang=en", {"extend_reason": ""})
    assert empty.status_code == 400
    assert "an extension needs a reason" in empty.text
    extended = post(
        dpo, f"{base}/extend?lang=en", {"extend_reason": "The request covers many systems"}
    )
    done(extended, request_id, "extended")
    assert "The deadline is extended" in follow(dpo, extended)
    request = console.load(request_id)
    assert request.extended_due_on is not None
    assert request.extension_reason == "The request covers many systems"
    assert any("The request covers many systems" in m for m in console.mails())
    again = post(dpo, f"{base}/extend?lang=en", {"extend_reason": "Again"})
    assert again.status_code == 409
    assert "already extended" in again.text


def test_refuse_with_reasons(console: Console) -> None:
    request_id = console.request("erasure", everywhere(console))
    dpo = console.client(Role.DPO)
    base = f"/admin/requests/{request_id}"
    refused = post(
        dpo, f"{base}/refuse?lang=en", {"refuse_reason": "The request is manifestly unfounded"}
    )
    done(refused, request_id, "refused")
    page = follow(dpo, refused)
    assert "Refused" in page
    assert "The request is manifestly unfounded" in page
    assert console.load(request_id).state == RequestState.REFUSED
    assert any("manifestly unfounded" in m for m in console.mails())
    # Closed: no more actions, and a second refusal is a clear message.
    assert "Refuse the request" not in page
    again = post(dpo, f"{base}/refuse?lang=en", {"refuse_reason": "Again"})
    assert again.status_code == 409
    assert "cannot become refused" in again.text


def test_complete_manual_tasks(console: Console) -> None:
    request_id = console.request("erasure", everywhere(console), verified=True)
    handler = console.client(Role.HANDLER)
    base = f"/admin/requests/{request_id}"
    done(post(handler, f"{base}/run?lang=en"), request_id, "run")
    with store.transaction(console.engine) as session:
        tasks = session.scalars(
            select(ManualTask.system_id).where(ManualTask.request_id == request_id)
        ).all()
    assert tasks, "the erasure tells the independent controllers by manual tasks"
    page = handler.get(f"{base}?lang=en").text
    assert "Manual task in Google Analytics" in page

    no_note = post(
        handler, f"{base}/task?lang=en", {"system": tasks[0], "outcome": "failed", "task_note": ""}
    )
    assert no_note.status_code == 400
    assert "say why the task could not be done" in no_note.text

    for system_id in tasks:
        answer = post(handler, f"{base}/task?lang=en", {"system": system_id, "outcome": "done"})
        done(answer, request_id, "task")
    assert console.load(request_id).state == RequestState.COMPLETED
    trail = [a for a, _ in actions_of(console, request_id)]
    assert trail.count("request.task_done") == len(tasks)
    assert trail[-1] == "request.completed"


def test_lift_a_restriction(console: Console) -> None:
    person = console.person("everywhere")
    request_id = console.request("restriction", everywhere(console), verified=True)
    dpo = console.client(Role.DPO)
    base = f"/admin/requests/{request_id}"
    done(post(dpo, f"{base}/run?lang=en"), request_id, "run")
    with store.transaction(console.engine) as session:
        tasks = session.scalars(
            select(ManualTask.system_id).where(ManualTask.request_id == request_id)
        ).all()
    for system_id in tasks:
        done(post(dpo, f"{base}/task", {"system": system_id, "outcome": "done"}), request_id, "")
    assert console.load(request_id).state == RequestState.COMPLETED
    flagged = "SELECT restricted FROM persons WHERE email = ?"
    with sqlite3.connect(console.directory / "crm.db") as crm:
        assert [bool(r[0]) for r in crm.execute(flagged, (person["email"],))] == [True]

    handler = console.client(Role.HANDLER)
    assert post(handler, f"{base}/lift").status_code == 403
    assert "Lift the restriction" in dpo.get(f"{base}?lang=en").text
    lifted = post(dpo, f"{base}/lift?lang=en")
    done(lifted, request_id, "lifted")
    with sqlite3.connect(console.directory / "crm.db") as crm:
        assert [bool(r[0]) for r in crm.execute(flagged, (person["email"],))] == [False]
    with store.transaction(console.engine) as session:
        still = session.scalar(
            select(func.count())
            .select_from(Restriction)
            .where(Restriction.request_id == request_id, Restriction.lifted_at.is_(None))
        )
    assert still == 0
    # Told first, in the language of the request (Swedish, the register's first).
    assert any(f"Begränsningen i ärende {request_id} hävs" in m for m in console.mails())


# --- registering a request, users and keys -------------------------------------------------


def test_register_a_request_received_by_letter(console: Console) -> None:
    handler = console.client(Role.HANDLER, controller="almi-vast")
    bad = post(handler, "/admin/requests/new?lang=en", {"type": "access"})
    assert bad.status_code == 400
    assert "give at least one identifier" in bad.text
    created = post(
        handler,
        "/admin/requests/new?lang=en",
        {
            "type": "access",
            "email": "Brev@Example.se",
            "language": "sv",
            # A limited handler registers for its own controller whatever the form says.
            "controller": "almi-ab",
            "verified": "1",
            "note": "ID checked at the office",
        },
    )
    assert created.status_code == 303
    request_id = created.headers["location"].split("/admin/requests/")[1].split("?")[0]
    request = console.load(request_id)
    assert request.controller_id == "almi-vast"
    assert request.state == RequestState.VERIFIED
    assert request.channel == "handler"


def test_users_and_api_keys(console: Console) -> None:
    admin = console.client(Role.ADMIN)
    added = post(
        admin,
        "/admin/users?lang=en",
        {"email": "ny@almi.example", "role": "handler", "controller": "almi-vast"},
    )
    assert added.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', added.text)
    assert password is not None, "a password Ombud made is shown once"
    weak = post(
        admin,
        "/admin/users?lang=en",
        {"email": "svag@almi.example", "role": "viewer", "password": "short"},
    )
    assert weak.status_code == 400
    assert "use at least 12" in weak.text
    with store.transaction(console.engine) as session:
        new = next(u for u in list_users(session) if u.email == "ny@almi.example")
    assert (new.role, new.controller_id) == ("handler", "almi-vast")
    disabled = post(admin, f"/admin/users/{new.id}/disable?lang=en")
    assert disabled.status_code == 303
    assert "The user is disabled" in follow(admin, disabled)

    key = post(admin, "/admin/keys?lang=en", {"name": "crm-export", "scopes": "consent:read"})
    assert key.status_code == 200
    shown = re.search(r'<code class="secret">(omb_[^<]+)</code>', key.text)
    assert shown is not None
    assert shown.group(1) not in admin.get("/admin/users?lang=en").text  # shown once
    with store.transaction(console.engine) as session:
        (row,) = list_keys(session)
    assert row.scopes == ["consent:read"]
    revoked = post(admin, f"/admin/keys/{row.id}/revoke?lang=en")
    assert revoked.status_code == 303
    with store.transaction(console.engine) as session:
        assert list_keys(session)[0].revoked_at is not None

    # An admin limited to one controller manages neither users nor keys.
    limited = console.client(Role.ADMIN, controller="almi-vast")
    assert limited.get("/admin/users").status_code == 403
    assert post(limited, "/admin/keys", {"name": "x", "scopes": "consent:read"}).status_code == 403


# --- who may do what ------------------------------------------------------------------------


def test_every_action_needs_the_csrf_token(console: Console) -> None:
    request_id = console.request("access", everywhere(console))
    admin = console.client(Role.ADMIN)
    for path in [
        *ACTION_PATHS,
        "/admin/requests/new",
        "/admin/audit/verify",
        "/admin/consent/search",
        "/admin/users",
        "/admin/keys",
        "/admin/users/1/disable",
        "/admin/keys/1/revoke",
    ]:
        answer = admin.post(
            path.format(id=request_id), data={"verify_note": "x"}, follow_redirects=False
        )
        assert answer.status_code == 403, path
        wrong = admin.post(
            path.format(id=request_id),
            data={"csrf_token": "0" * 64, "verify_note": "x"},
            follow_redirects=False,
        )
        assert wrong.status_code == 403, path
    assert console.load(request_id).state == RequestState.RECEIVED


ACTION_PATHS = [
    f"/admin/requests/{{id}}/{name}"
    for name in (
        "verify",
        "run",
        "choose",
        "objection",
        "extend",
        "refuse",
        "rectify",
        "task",
        "send",
        "download",
        "lift",
    )
]


def test_a_limited_handler_cannot_act_on_another_controllers_request(console: Console) -> None:
    theirs = console.request("access", everywhere(console), controller="almi-invest")
    handler = console.client(Role.HANDLER, controller="almi-vast")
    for path in ACTION_PATHS:
        answer = post(handler, path.format(id=theirs), {"verify_note": "x"})
        assert answer.status_code == 404, path
    assert console.load(theirs).state == RequestState.RECEIVED


@dataclass(frozen=True)
class Probe:
    """How to try an action through HTTP, and what an allowed caller gets."""

    method: str
    path: str
    data: dict[str, str]
    allowed: int


#: One probe per action of PERMISSIONS. Data that the service refuses is fine: the point
#: is that an allowed role gets past the permission check (its status is not 403) and
#: a lower role does not (403).
PROBES: dict[str, Probe] = {
    "view": Probe("GET", "/admin/requests/{id}", {}, 200),
    "verify_audit": Probe("POST", "/admin/audit/verify", {}, 200),
    "create_request": Probe(
        "POST", "/admin/requests/new", {"type": "access", "email": "a@example.se"}, 303
    ),
    "verify": Probe("POST", "/admin/requests/{id}/verify", {"verify_note": "phoned"}, 303),
    "run": Probe("POST", "/admin/requests/{id}/run", {}, 400),
    "choose_rows": Probe("POST", "/admin/requests/{id}/choose", {"system": "nosuch"}, 400),
    "rectify": Probe("POST", "/admin/requests/{id}/rectify", {}, 400),
    "complete_task": Probe("POST", "/admin/requests/{id}/task", {"system": "crm"}, 409),
    "send_answer": Probe("POST", "/admin/requests/{id}/send", {}, 409),
    "download_extract": Probe("POST", "/admin/requests/{id}/download", {}, 404),
    "decide_objection": Probe(
        "POST", "/admin/requests/{id}/objection", {"outcome": "upheld", "grounds": "g"}, 400
    ),
    "extend": Probe("POST", "/admin/requests/{id}/extend", {"extend_reason": ""}, 400),
    "refuse": Probe("POST", "/admin/requests/{id}/refuse", {"refuse_reason": ""}, 400),
    "lift_restriction": Probe("POST", "/admin/requests/{id}/lift", {}, 409),
    "manage_users": Probe("GET", "/admin/users", {}, 200),
    "manage_api_keys": Probe(
        "POST", "/admin/keys", {"name": "probe", "scopes": "consent:read"}, 200
    ),
}


def test_every_permission_has_a_probe() -> None:
    assert set(PROBES) == set(PERMISSIONS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_role_action_table(console: Console, action: str, role: Role) -> None:
    probe = PROBES[action]
    request_id = console.request("access", everywhere(console))
    browser = console.client(role)
    path = probe.path.format(id=request_id)
    if probe.method == "GET":
        answer = browser.get(path, follow_redirects=False)
    else:
        answer = post(browser, path, probe.data)
    expected = probe.allowed if role >= PERMISSIONS[action] else 403
    assert answer.status_code == expected, answer.text[:1000]
    if expected != 403:
        assert "Traceback" not in answer.text
