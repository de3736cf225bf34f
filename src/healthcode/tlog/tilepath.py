"""C2SP tlog-tiles resource paths: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from healthcode.tlog.errors import TilePathError

__all__ = [
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TilePath",
    "encode_tile_index",
    "parse_tile_path",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_TILE_LEVEL = 63
_MAX_INDEX = (1 << 64) - 1

_LEVEL_RE = re.compile(r"0|[1-9][0-9]?")
_WIDTH_RE = re.compile(r"[1-9][0-9]{0,2}")
_INNER_RE = re.compile(r"x[0-9]{3}")
_LAST_RE = re.compile(r"[0-9]{3}")


def encode_tile_index(index: int) -> str:
    """Encode ``N`` as zero-padded 3-digit groups, all but the last prefixed with ``x``."""
    if not 0 <= index <= _MAX_INDEX:
        raise TilePathError(f"tile index {index} is outside uint64")
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


@dataclass(frozen=True, order=True)
class TilePath:
    """A hash tile (``entries=False``) or an entry bundle (``entries=True``, level 0).

    ``width`` is the number of hashes or entries: 256 for a full resource,
    1..255 for a partial one.
    """

    level: int
    index: int
    width: int = TILE_WIDTH
    entries: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise TilePathError(f"tile level {self.level} is outside 0..{MAX_TILE_LEVEL}")
        if self.entries and self.level != 0:
            raise TilePathError("entry bundles only exist at level 0")
        if not 0 <= self.index <= _MAX_INDEX:
            raise TilePathError(f"tile index {self.index} is outside uint64")
        if not 1 <= self.width <= TILE_WIDTH:
            raise TilePathError(f"tile width {self.width} is outside 1..{TILE_WIDTH}")

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def start(self) -> int:
        """Index of the first node, at Merkle level ``8 * level``, this resource holds."""
        return self.index * TILE_WIDTH

    def full(self) -> TilePath:
        """The full-width resource at the same position."""
        return TilePath(self.level, self.index, TILE_WIDTH, self.entries)

    def path(self) -> str:
        """The resource path relative to the log prefix, e.g. ``tile/0/x001/234.p/5``."""
        kind = "entries" if self.entries else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{kind}/{encode_tile_index(self.index)}{suffix}"

    def __str__(self) -> str:
        return self.path()

    @classmethod
    def parse(cls, path: str) -> TilePath:
        return parse_tile_path(path)


def parse_tile_path(path: str) -> TilePath:
    """Parse a canonical tile or entry-bundle path, raising ``TilePathError`` otherwise."""
    if len(path) > 128:
        raise TilePathError("tile path is too long")
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TilePathError(f"not a tile path: {path!r}")
    entries = parts[1] == "entries"
    if entries:
        level = 0
    elif _LEVEL_RE.fullmatch(parts[1]):
        level = int(parts[1])
    else:
        raise TilePathError(f"bad tile level {parts[1]!r} in {path!r}")
    groups = parts[2:]
    width = TILE_WIDTH
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        if not _WIDTH_RE.fullmatch(groups[-1]) or int(groups[-1]) >= TILE_WIDTH:
            raise TilePathError(f"bad partial width {groups[-1]!r} in {path!r}")
        width = int(groups[-1])
        groups = [*groups[:-2], groups[-2][:-2]]
    if not _LAST_RE.fullmatch(groups[-1]) or not all(_INNER_RE.fullmatch(g) for g in groups[:-1]):
        raise TilePathError(f"bad tile index in {path!r}")
    index = int("".join(g.lstrip("x") for g in groups))
    try:
        tile = TilePath(level, index, width, entries)
    except TilePathError as exc:
        raise TilePathError(f"{exc.message} in {path!r}") from None
    # Round-tripping rejects redundant spellings such as a leading x000 group.
    if tile.path() != path:
        raise TilePathError(f"tile path is not canonical: {path!r} (expected {tile.path()!r})")
    return tile
