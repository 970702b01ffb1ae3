"""The web app: public notice and portal, API and admin console."""

from ombud.web.app import create_app

__all__ = ["create_app"]
