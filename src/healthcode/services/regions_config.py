"""Which regional logs the national log collects from: each region's URL and verifier key.

The key is configured, never fetched from the region: a region that could change the key the
national log checks it with could also replace its history unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from healthcode.errors import InputRejected
from healthcode.tlog import Ed25519Verifier, KeyFormatError

__all__ = ["Region", "load_regions", "regions_from_arguments"]


@dataclass(frozen=True)
class Region:
    """A regional log: where its tlog-tiles resources are (``URL/checkpoint``,
    ``URL/tile/...``) and the key its checkpoints must be signed with."""

    url: str
    key: str  # a C2SP vkey; its name is the region's origin

    @property
    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier.from_vkey(self.key)

    @property
    def origin(self) -> str:
        return self.verifier.name


def _region(url: object, key: object, where: str) -> Region:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InputRejected("region.config_invalid", f"{where}: url must be an http(s) URL")
    if not isinstance(key, str):
        raise InputRejected("region.config_invalid", f"{where}: key must be a vkey string")
    try:
        Ed25519Verifier.from_vkey(key)
    except KeyFormatError as error:
        raise InputRejected("region.config_invalid", f"{where}: {error.message}") from None
    return Region(url if url.endswith("/") else url + "/", key)


def regions_from_arguments(urls: Sequence[str], keys: Sequence[str]) -> list[Region]:
    """Regions named on the command line: the n-th key belongs to the n-th URL."""
    if len(urls) != len(keys):
        raise InputRejected(
            "region.config_invalid", f"{len(urls)} URLs but {len(keys)} keys: give one key per URL"
        )
    return [_region(url, key, url) for url, key in zip(urls, keys, strict=True)]


def load_regions(path: Path) -> list[Region]:
    """Regions from a YAML file: ``regions: [{url: ..., key: ...}, ...]``."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputRejected("region.config_invalid", f"{path}: {error}") from None
    listed = data.get("regions") if isinstance(data, dict) else None
    if not isinstance(listed, list) or not listed:
        raise InputRejected("region.config_invalid", f"{path}: needs a non-empty 'regions' list")
    regions = []
    for n, item in enumerate(listed):
        if not isinstance(item, dict) or set(item) != {"url", "key"}:
            raise InputRejected(
                "region.config_invalid", f"{path}: region {n} must have exactly 'url' and 'key'"
            )
        regions.append(_region(item["url"], item["key"], f"{path}: region {n}"))
    return regions
