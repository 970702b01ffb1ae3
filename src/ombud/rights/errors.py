"""Errors a data subject request can meet; messages say what, which request and how to fix.

::

    RightsError
     ├── InvalidRequestError     bad input: unknown type, no or malformed identifier, ...
     ├── RequestNotFoundError    no request with that id
     ├── RequestStateError       the request cannot do that in its state
     └── VerificationError       a link or code that is wrong, used or expired
"""

from __future__ import annotations


class RightsError(Exception):
    """Base of the errors of :mod:`ombud.rights`."""


class InvalidRequestError(RightsError, ValueError):
    """The request as given cannot be accepted; nothing was stored."""


class RequestNotFoundError(RightsError, LookupError):
    """No request has that id."""


class RequestStateError(RightsError):
    """The request's state does not allow the action."""


class VerificationError(RightsError):
    """Identity verification failed: wrong, used or expired link or code."""
