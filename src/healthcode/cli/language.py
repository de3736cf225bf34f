"""The language of the command line's own messages: Chinese when the locale asks for it
(``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` starting with ``zh``), English otherwise, from the
same gettext catalogues as the pages, so every message exists in both."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from healthcode.web.i18n import gettext_for


def cli_gettext(env: Mapping[str, str] | None = None) -> Callable[[str], str]:
    env = os.environ if env is None else env
    # POSIX precedence: the first of these that is set decides.
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable)
        if value:
            return gettext_for("zh" if value.lower().startswith("zh") else "en")
    return gettext_for("en")
