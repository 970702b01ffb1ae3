"""The cookie banner's script and the Global Privacy Control statement (docs/banner.md).

`GET /consent/banner.js` serves ``ombud/consent/static/banner.js`` as shipped in
the package: every page of the organisation's websites loads it, so it is
cacheable, revalidated by ETag and sent gzipped to the browsers that take it.
Its texts and categories come from ``/consent/banner.json`` (consent_api.py),
so a register change never changes the script itself.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ombud.web.registry import RegisterSource

router = APIRouter(tags=["consent"])

#: Browsers revalidate the script hourly (a 304 by ETag): a new Ombud release reaches
#: every page within the hour without each page view costing a download.
CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True)
class Script:
    """The banner script as served: plain and gzipped, and the digest of its bytes."""

    plain: bytes
    gzipped: bytes
    digest: str


@cache
def banner_script() -> Script:
    """The packaged banner.js, read and compressed once per process."""
    plain = (resources.files("ombud") / "consent" / "static" / "banner.js").read_bytes()
    # mtime=0: the same bytes give the same gzip stream on every server of a cluster.
    return Script(plain, gzip.compress(plain, 9, mtime=0), hashlib.sha256(plain).hexdigest())


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


@router.get(
    "/consent/banner.js",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}}}, 304: {"description": "Not modified"}},
)
def banner_js(request: Request) -> Response:
    """The cookie banner script. ETag: the register version and the script's digest."""
    source: RegisterSource = request.app.state.register
    script = banner_script()
    # The contract's ETag is the register version; the script's own digest joins it so that
    # an Ombud upgrade with an unchanged register still reaches the browsers.
    etag = f'"{source.current().version[:16]}-{script.digest[:16]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        # Websites isolated with COEP may still load it from Ombud's origin.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = script.plain
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        body = script.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/.well-known/gpc.json")
def gpc_json(request: Request) -> JSONResponse:
    """Global Privacy Control support: Ombud treats `Sec-GPC: 1` as a refusal of marketing.

    ``lastUpdate`` is the date the register's notice (cookie categories included) was
    last updated.
    """
    source: RegisterSource = request.app.state.register
    updated = source.current().register.notice.updated
    return JSONResponse(
        {"gpc": True, "lastUpdate": updated.isoformat()},
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )
