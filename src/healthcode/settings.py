"""Settings from the environment, read once by the composition root."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from healthcode.errors import InputRejected


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "Asia/Shanghai"
    batch_max_records: int = 1000
    future_skew_seconds: int = 300
    scheduler_interval_seconds: float = 5.0
    session_hours: int = 12
    log_origin: str = "healthcode.example/log"
    sequencer_interval_seconds: float = 0.25
    witnesses: str = ""
    dcc_schemas: Path | None = None  # a folder of ehn-dcc-schema releases; none: no DCC intake
    oversight_interval_seconds: float = 3600.0  # how often the server runs the detectors
    log_format: str = "text"  # "json": one JSON object a line, no personal data (web/logs.py)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``env`` (the process's environment by default); a malformed value
        is refused as ``settings.invalid``, naming the variable, before anything is built."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("HEALTHCODE_DATA_DIR", "var")).resolve()
        url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'healthcode.db'}"
        if not url.startswith(("sqlite:", "sqlite+", "postgresql:", "postgresql+")):
            # Only the scheme is printed: the rest of a URL may hold a password.
            _refuse(
                "DATABASE_URL", url.split(":", 1)[0], "sqlite:///FILE or postgresql+psycopg://..."
            )
        log_format = env.get("HEALTHCODE_LOG_FORMAT", "text")
        if log_format not in ("text", "json"):
            _refuse("HEALTHCODE_LOG_FORMAT", log_format, "text or json")
        timezone = env.get("HEALTHCODE_TIMEZONE", "Asia/Shanghai")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            _refuse("HEALTHCODE_TIMEZONE", timezone, "an IANA time zone such as Asia/Shanghai")
        return cls(
            database_url=url,
            data_dir=data_dir,
            host=env.get("HOST", "127.0.0.1"),
            port=_whole(env, "PORT", "8000", least=0, most=65535),  # 0: any free port
            timezone=timezone,
            batch_max_records=_whole(env, "HEALTHCODE_BATCH_MAX_RECORDS", "1000"),
            future_skew_seconds=_whole(env, "HEALTHCODE_FUTURE_SKEW_SECONDS", "300", least=0),
            scheduler_interval_seconds=_seconds(env, "HEALTHCODE_SCHEDULER_SECONDS", "5"),
            session_hours=_whole(env, "HEALTHCODE_SESSION_HOURS", "12"),
            log_origin=env.get("HEALTHCODE_LOG_ORIGIN", "healthcode.example/log"),
            sequencer_interval_seconds=_seconds(env, "HEALTHCODE_SEQUENCER_SECONDS", "0.25"),
            witnesses=env.get("HEALTHCODE_WITNESSES", ""),
            oversight_interval_seconds=_seconds(
                env, "HEALTHCODE_OVERSIGHT_INTERVAL_SECONDS", "3600"
            ),
            log_format=log_format,
            dcc_schemas=_schema_folder(env),
        )


def _refuse(name: str, value: str, expected: str) -> NoReturn:
    raise InputRejected("settings.invalid", f"{name}={value!r}: expected {expected}")


def _whole(
    env: Mapping[str, str], name: str, default: str, *, least: int = 1, most: int | None = None
) -> int:
    raw = env.get(name, default)
    try:
        value = int(raw)
    except ValueError:
        _refuse(name, raw, "a whole number")
    if value < least or (most is not None and value > most):
        _refuse(name, raw, f"a whole number from {least}" + (f" to {most}" if most else ""))
    return value


def _seconds(env: Mapping[str, str], name: str, default: str) -> float:
    """An interval in seconds: above 0 (an interval of 0 would spin a thread) and finite."""
    raw = env.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        _refuse(name, raw, "a number of seconds")
    if not (0 < value < math.inf):
        _refuse(name, raw, "a number of seconds above 0")
    return value


def _schema_folder(env: Mapping[str, str]) -> Path | None:
    """A folder of ehn-dcc-schema releases; one without any would leave every DCC answered
    ``dcc.unavailable``, "not set up", with nothing to tell the operator who mistyped it."""
    raw = env.get("HEALTHCODE_DCC_SCHEMAS")
    if not raw:
        return None
    folder = Path(raw).resolve()
    if not any(folder.glob("*/*combined-schema.json")):
        _refuse("HEALTHCODE_DCC_SCHEMAS", raw, "a folder of <version>/DCC.combined-schema.json")
    return folder
