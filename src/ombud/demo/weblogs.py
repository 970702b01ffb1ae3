"""The website's files: web server access logs and the banner's events, drawn from the people.

- ``logs/access.log`` and the three days before it rotated by day
  (``access.log-YYYYMMDD``, logrotate's ``dateext``), in the combined log format:
  ``remote_addr - remote_user [time_local] "request" status body_bytes_sent
  "http_referer" "http_user_agent"``. IPv4 and some IPv6 addresses.
- ``logs/events.jsonl``: one JSON object a line, keyed by the cookie banner's
  ``visitor_id``, with the IP it came from: page views, consent choices, form
  submissions over the last thirty days.

The persons who browse (their visitor id and IP are in the population) turn
up here, and so do the outsiders; one address (:data:`~ombud.demo.identities.IP_ONLY_ADDRESS`)
is in the access logs and nowhere else. Lines are in time order, as a server
writes them. Only the times are sorted: every other field is drawn
independently, so sorting the times alone gives the same distribution.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from random import Random

from ombud.demo.people import Population
from ombud.demo.pools import EVENT_TYPES, PATHS, REFERRERS, USER_AGENTS, pick

__all__ = ["ACCESS_LOG", "EVENTS", "planned_lines", "write_access_logs", "write_events"]

ACCESS_LOG = "logs/access.log"
EVENTS = "logs/events.jsonl"

#: access-log lines per person, over all four days; events per person over thirty days
ACCESS_RATE, EVENT_RATE = 1.5, 1.0
ROTATED_DAYS = 3
EVENT_DAYS = 30

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STATUS = ("200",) * 12 + ("304", "304", "301", "404", "500")
# JSON-encoded once: the lines are then plain string formatting
_JSON_PATHS = tuple(json.dumps(f"https://www.almi.se{p}") for p in PATHS)
_JSON_REFERRERS = tuple(json.dumps(None if r == "-" else r) for r in REFERRERS)
_JSON_AGENTS = tuple(json.dumps(a) for a in USER_AGENTS)
_JSON_EVENTS = tuple(json.dumps(e) for e in EVENT_TYPES)


def planned_lines(size: int) -> dict[str, int]:
    return {"access_log": round(size * ACCESS_RATE), "events": round(size * EVENT_RATE)}


def _browsers(people: Population) -> list[tuple[str, str]]:
    """(visitor id, IP) of everyone who browses: persons and outsiders."""
    found = [
        (visitor, ip)
        for visitor, ip in zip(people.visitor, people.ip, strict=True)
        if visitor is not None and ip is not None
    ]
    found += [
        (o.visitor, o.ip) for o in people.outsiders if o.visitor is not None and o.ip is not None
    ]
    return found


def write_access_logs(people: Population, directory: Path, rng: Random) -> list[Path]:
    """Write today's access log and the rotated ones before it; return their paths."""
    random, today = rng.random, people.today
    browsers = _browsers(people)
    everyone = people.ip[people.edge.everywhere - 1]
    assert everyone is not None
    per_day = max(ROTATED_DAYS + 1, round(people.size * ACCESS_RATE) // (ROTATED_DAYS + 1))
    paths: list[Path] = []
    for back in range(ROTATED_DAYS, -1, -1):
        day = today - timedelta(days=back)
        stamp = f"{day.day:02d}/{_MONTHS[day.month - 1]}/{day.year}"
        seconds = sorted(int(random() * 86_400) for _ in range(per_day))
        lines: list[str] = []
        for k, second in enumerate(seconds):
            # else crawlers and people who never answered the banner (TEST-NET-1)
            ip = (
                pick(random, browsers)[1]
                if random() < 0.85
                else f"192.0.2.{int(random() * 254) + 1}"
            )
            if k in (1, per_day // 2):
                ip = everyone if back % 2 else people.edge.ip_only
            lines.append(
                f"{ip} - - [{stamp}:{second // 3600:02d}:{second // 60 % 60:02d}:"
                f'{second % 60:02d} +0000] "GET {pick(random, PATHS)} HTTP/1.1" '
                f"{pick(random, _STATUS)} {int(random() * 60_000) + 200} "
                f'"{pick(random, REFERRERS)}" "{pick(random, USER_AGENTS)}"\n'
            )
        name = ACCESS_LOG if back == 0 else f"{ACCESS_LOG}-{day:%Y%m%d}"
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def write_events(people: Population, directory: Path, rng: Random) -> Path:
    """Write the banner's events file; return its path."""
    random, days = rng.random, people.days
    browsers = _browsers(people)
    count = max(3, round(people.size * EVENT_RATE))
    moments = sorted(int(random() * EVENT_DAYS * 86_400) for _ in range(count))
    e = people.edge.everywhere - 1
    own = (people.visitor[e], people.ip[e])
    lines: list[str] = []
    for k, moment in enumerate(moments):
        visitor, ip = own if k in (0, count // 2, count - 1) else pick(random, browsers)
        offset = EVENT_DAYS - 1 - moment // 86_400
        second = moment % 86_400
        time = f"{days.iso(offset)}T{days.times[second][:8]}Z"
        lines.append(
            f'{{"ts": "{time}", "visitor_id": "{visitor}", "ip": "{ip}", '
            f'"event": {pick(random, _JSON_EVENTS)}, "url": {pick(random, _JSON_PATHS)}, '
            f'"referrer": {pick(random, _JSON_REFERRERS)}, '
            f'"user_agent": {pick(random, _JSON_AGENTS)}}}\n'
        )
    path = directory / EVENTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path
