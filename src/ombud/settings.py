"""One typed Settings object, built at the edge (CLI, ASGI factory) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Ombud's configuration, read from ``OMBUD_*`` environment variables (DESIGN §2)."""

    model_config = SettingsConfigDict(env_prefix="OMBUD_", extra="ignore", frozen=True)

    #: `register` itself would shadow a BaseSettings attribute; the variable is OMBUD_REGISTER.
    register_path: Path = Field(
        Path("ombud.yaml"), validation_alias=AliasChoices("OMBUD_REGISTER", "register_path")
    )
    database_url: str = "sqlite:///./ombud.db"
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    mail_url: str = "file:./outbox"
    allowed_origins: list[str] = []
    worker: Literal["inline", "none"] = "inline"
    #: Request types run as soon as the person is verified; the others wait for a handler
    #: (`ombud request run`, the console). Reading and stopping are safe to automate.
    auto_run: list[str] = ["access", "portability", "objection", "withdraw-consent"]
    broker_url: str | None = None
    #: Console sessions end after this long without a request, and this long after login.
    session_idle_minutes: int = 30
    session_hours: int = 12
    #: Set by `ombud demo`: a throwaway secret is acceptable there and only there.
    demo: bool = False
