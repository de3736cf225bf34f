"""Settings from the environment, read once by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


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
        env = os.environ if env is None else env
        data_dir = Path(env.get("HEALTHCODE_DATA_DIR", "var")).resolve()
        url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'healthcode.db'}"
        return cls(
            database_url=url,
            data_dir=data_dir,
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "8000")),
            timezone=env.get("HEALTHCODE_TIMEZONE", "Asia/Shanghai"),
            batch_max_records=int(env.get("HEALTHCODE_BATCH_MAX_RECORDS", "1000")),
            future_skew_seconds=int(env.get("HEALTHCODE_FUTURE_SKEW_SECONDS", "300")),
            scheduler_interval_seconds=float(env.get("HEALTHCODE_SCHEDULER_SECONDS", "5")),
            session_hours=int(env.get("HEALTHCODE_SESSION_HOURS", "12")),
            log_origin=env.get("HEALTHCODE_LOG_ORIGIN", "healthcode.example/log"),
            sequencer_interval_seconds=float(env.get("HEALTHCODE_SEQUENCER_SECONDS", "0.25")),
            witnesses=env.get("HEALTHCODE_WITNESSES", ""),
            oversight_interval_seconds=float(
                env.get("HEALTHCODE_OVERSIGHT_INTERVAL_SECONDS", "3600")
            ),
            log_format=env.get("HEALTHCODE_LOG_FORMAT", "text"),
            dcc_schemas=Path(env.get("HEALTHCODE_DCC_SCHEMAS", "")).resolve()
            if env.get("HEALTHCODE_DCC_SCHEMAS")
            else None,
        )
