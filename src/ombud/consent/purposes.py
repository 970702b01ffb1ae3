"""What a register version asks consent for: purposes, the banner's categories, GPC's reach.

Derived once per register version (the content hash identifies the register,
so the derived map never goes stale) and kept in a small cache, so recording a
choice reads no register at all.

The GPC rule: a Global Privacy Control signal refuses every consent purpose
that an activity with ``direct_marketing: true`` or ``profiling: true`` rests
on: marketing and the profiling for it, which is what GPC opts out of ("do not
sell or share"; DOMAIN.md: "treat as refusal of marketing"). For Almi that is
``marketing`` (the activity ``marketing-profiling``); ``statistics`` is not
touched, although Google receives it too: GPC is about marketing, and the
banner still asks about statistics.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from ombud import store
from ombud.consent.errors import InvalidChoiceError, UnknownVersionError
from ombud.register.model import Register

__all__ = ["PurposeMap", "purpose_map", "stored_register"]

#: Register versions kept derived in memory; a deployment serves a handful.
_CACHE_SIZE = 32


@dataclass(frozen=True)
class PurposeMap:
    """The consent purposes of one register version and how the banner asks for them."""

    version: str
    languages: tuple[str, ...]
    #: Every consent purpose (``activities[].consent.purpose``).
    consent: frozenset[str]
    #: Purpose -> the optional cookie category that asks for it (the first, in register order).
    banner: Mapping[str, str]
    #: Optional cookie category -> its consent purposes, in register order.
    categories: Mapping[str, tuple[str, ...]]
    #: The purposes a GPC signal refuses (see the module's rule).
    gpc: frozenset[str]
    #: ``consent.forms`` id -> its purposes.
    forms: Mapping[str, tuple[str, ...]]
    #: ``consent.renew_after``, an ISO 8601 duration, or None (consent does not lapse).
    renew_after: str | None

    def banner_answers(self, answers: Mapping[str, bool]) -> dict[str, bool]:
        """The banner's answers, keyed by optional category (or by purpose), as purposes.

        A category stands for all its purposes; a purpose reached through several
        keys is a yes only if every answer is. Raises :class:`InvalidChoiceError`
        (field ``choices``) for a key that is neither a category the banner asks
        about nor one of its purposes.
        """
        purposes: dict[str, bool] = {}
        unknown: list[str] = []
        for key, answer in answers.items():
            if key in self.categories:
                targets = self.categories[key]
            elif key in self.banner:
                targets = (key,)
            else:
                unknown.append(key)
                continue
            for purpose in targets:
                purposes[purpose] = purposes.get(purpose, True) and answer
        if unknown:
            raise InvalidChoiceError(
                f"unknown category {', '.join(map(repr, sorted(unknown)))}; the banner asks "
                f"about: {', '.join(self.categories) or 'nothing'}",
                field="choices",
            )
        return purposes

    @classmethod
    def of(cls, register: Register, version: str) -> PurposeMap:
        """Derive the map of ``register`` (whose content hash is ``version``)."""
        by_purpose = register.consent_purposes()
        activity_purpose = {
            a.id: a.consent.purpose for a in register.activities if a.consent is not None
        }
        banner: dict[str, str] = {}
        categories: dict[str, tuple[str, ...]] = {}
        for category_id, category in register.consent.cookie_categories.items():
            if category.required:
                continue
            purposes = tuple(
                dict.fromkeys(
                    activity_purpose[a] for a in category.activities if a in activity_purpose
                )
            )
            categories[category_id] = purposes
            for purpose in purposes:
                banner.setdefault(purpose, category_id)
        gpc = frozenset(
            purpose
            for purpose, activities in by_purpose.items()
            if any(a.direct_marketing or a.profiling for a in activities)
        )
        return cls(
            version=version,
            languages=tuple(register.languages),
            consent=frozenset(by_purpose),
            banner=banner,
            categories=categories,
            gpc=gpc,
            forms={f: tuple(form.purposes) for f, form in register.consent.forms.items()},
            renew_after=register.consent.renew_after,
        )


_T = TypeVar("_T")
_lock = threading.Lock()
_maps: OrderedDict[str, PurposeMap] = OrderedDict()
_registers: OrderedDict[str, Register] = OrderedDict()


def _remember(cache: OrderedDict[str, _T], key: str, value: _T) -> _T:
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return value


def purpose_map(register: Register, version: str) -> PurposeMap:
    """The :class:`PurposeMap` of ``register``, whose content hash is ``version`` (cached)."""
    cached = _maps.get(version)
    if cached is not None:
        return cached
    return _remember(_maps, version, PurposeMap.of(register, version))


def stored_register(session: Session, version: str) -> Register:
    """The register exactly as it was served as ``version`` (cached once read).

    Raises :class:`UnknownVersionError` when no such version was ever served.
    """
    cached = _registers.get(version)
    if cached is not None:
        return cached
    row = store.get_version(session, version)
    if row is None:
        raise UnknownVersionError(
            "no register version with this hash was ever served; send the "
            "register_version that /consent/banner.json gave with the text shown",
            field="register_version",
        )
    return _remember(_registers, version, store.load_version(row))
