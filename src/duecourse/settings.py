"""Settings, read once from `DUECOURSE_*` environment variables.

The defaults run the embedded mode: a SQLite file and a mailbox folder in the
working folder. A bad value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from duecourse.domain.errors import InvalidField


@dataclass(frozen=True)
class Settings:
    database_url: str
    smtp_url: str | None
    mailbox: Path
    sender: str
    base_url: str
    secret_key: str
    webhook_url: str | None
    run_at: str
    link_days: int
    templates: Path | None = None

    def __repr__(self) -> str:
        # Settings hold secrets and passwords: never let them reach a log.
        return f"Settings(database={_without_password(self.database_url)})"


def load_settings(
    environ: Mapping[str, str] | None = None, folder: Path | None = None
) -> Settings:
    """Read the settings, creating the secret key file on first use."""
    env = os.environ if environ is None else environ
    here = folder or Path.cwd()
    database_url = env.get("DUECOURSE_DATABASE_URL", f"sqlite:///{here}/duecourse.db")
    if not database_url.startswith(("sqlite", "postgresql")):
        raise InvalidField(
            "DUECOURSE_DATABASE_URL",
            f"{_without_password(database_url)} is not supported",
            "use sqlite:///path or postgresql+psycopg://user@host/db",
        )
    smtp_url = env.get("DUECOURSE_SMTP_URL") or None
    if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
        raise InvalidField(
            "DUECOURSE_SMTP_URL",
            "must start with smtp:// or smtps://",
            "write it like smtp://user:password@mail.example.com:587?starttls=1",
        )
    run_at = env.get("DUECOURSE_RUN_AT", "06:00")
    if len(run_at) != 5 or run_at[2] != ":" or not run_at.replace(":", "").isdigit():
        raise InvalidField("DUECOURSE_RUN_AT", f"{run_at!r} is not a time", "use 06:00")
    link_days = env.get("DUECOURSE_LINK_DAYS", "30")
    if not link_days.isdigit() or int(link_days) < 1:
        raise InvalidField(
            "DUECOURSE_LINK_DAYS", f"{link_days!r} is not a number of days", "use 30"
        )
    return Settings(
        database_url=database_url,
        smtp_url=smtp_url,
        mailbox=Path(env.get("DUECOURSE_MAILBOX", str(here / "mailbox"))),
        sender=env.get("DUECOURSE_SENDER", "Billing <billing@duecourse.localhost>"),
        base_url=env.get("DUECOURSE_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        secret_key=env.get("DUECOURSE_SECRET_KEY") or _local_secret(here),
        webhook_url=env.get("DUECOURSE_WEBHOOK_URL") or None,
        run_at=run_at,
        link_days=int(link_days),
        templates=_folder(env, "DUECOURSE_TEMPLATES"),
    )


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    if not value:
        return None
    folder = Path(value)
    if not folder.is_dir():
        raise InvalidField(name, f"{value} is not a folder", "create it or unset it")
    return folder


def _local_secret(folder: Path) -> str:
    """A per-installation key for the embedded mode, kept beside the database."""
    path = folder / ".duecourse-secret"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
