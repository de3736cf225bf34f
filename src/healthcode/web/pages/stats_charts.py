"""The statistics pages' charts: which series each one stacks, in which colours, under which
words (in the reader's language), drawn by `web/charts.py` from the protected counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from markupsafe import Markup

from healthcode.domain.disclosure import Table
from healthcode.services.public_acts import CASE_ORIGINS, FOUND, LEVELS, OUTCOMES
from healthcode.services.public_stats import HELD, PublicStats
from healthcode.web.charts import PALETTE, Series, bars, day_bars

Gettext = Callable[[str], str]
COLOUR_FILLS = {"green": "#0a7d32", "yellow": "#e0a800", "red": "#c8102e"}
OUTCOME_FILLS = {"open": "#8a8a8a", "upheld": "#D55E00", "overturned": "#009E73",
                 "corrected": "#0072B2", "lapsed": "#CC79A7"}  # fmt: skip
LEVEL_FILLS = {"high": "#c8102e", "medium": "#e0a800", "low": "#56B4E9"}


def colour_series(_: Gettext, colours: tuple[str, ...]) -> list[Series]:
    names = {"red": _("Red code"), "yellow": _("Yellow code"), "green": _("Green code")}
    return [Series(c, names[c], COLOUR_FILLS[c]) for c in colours]


def outcome_series(_: Gettext) -> list[Series]:
    names = {"open": _("Open"), "upheld": _("Upheld"), "overturned": _("Overturned"),
             "corrected": _("Corrected"), "lapsed": _("No answer in time")}  # fmt: skip
    return [Series(o, names.get(o, o), OUTCOME_FILLS.get(o, "#444444")) for o in OUTCOMES]


def hidden(_: Gettext) -> str:
    return _("hidden count (not drawn to scale)")


def page_charts(
    stats: PublicStats, _: Gettext, *, names: Mapping[str, str], authorities: Mapping[str, str],
    detectors: Mapping[str, str],
) -> dict[str, Markup]:  # fmt: skip
    """Every chart of /public/stats, by the id of the section that shows it. ``names`` are
    the cities' names, ``authorities`` the authorities', ``detectors`` the detectors' titles,
    all in the reader's language."""
    veil = hidden(_)
    charts: dict[str, Markup] = {}
    # Each colour on its own scale: a few dozen red codes beside thousands of yellow ones
    # would otherwise not show at all, and red is what the page is most asked about.
    for city in stats.city_days:
        name = names.get(city.city, city.city)
        titles = {
            "red": _("Red codes held at the end of each day: %(city)s") % {"city": name},
            "yellow": _("Yellow codes held at the end of each day: %(city)s") % {"city": name},
        }
        for series in colour_series(_, HELD):
            key = f"city-{city.city}-{series.key}"
            charts[key] = day_bars(key, titles[series.key], stats.days, [series],
                                   {series.key: city.held[series.key]}, veil, height=60)  # fmt: skip
    titles = {"red": _("Codes turned red, per day"), "yellow": _("Codes turned yellow, per day"),
              "green": _("Codes turned green, per day")}  # fmt: skip
    for series in colour_series(_, ("red", "yellow", "green")):
        key = f"changes-{series.key}"
        charts[key] = day_bars(key, titles[series.key], stats.days, [series],
                               {series.key: stats.changes[series.key]}, veil, height=60)  # fmt: skip
    acts = stats.acts
    if acts.orders is not None:
        bases = [Series(b, b, PALETTE[n % len(PALETTE)]) for n, b in enumerate(acts.orders.cols)]
        charts["orders"] = table_bars(
            "orders-chart", _("Orders per authority, by legal basis"), acts.orders, bases,
            authorities, veil,
        )  # fmt: skip
        charts["order-days"] = day_bars(
            "order-days-chart", _("Orders issued per day"), stats.days,
            [Series("orders", _("Orders"), PALETTE[0])], {"orders": acts.order_days}, veil,
        )  # fmt: skip
    if acts.designations is not None:
        levels = {"high": _("high risk"), "medium": _("medium risk"), "low": _("low risk")}
        charts["designation-days"] = day_bars(
            "designation-days-chart", _("Risk designations in force at the end of each day"),
            stats.days, [Series(v, levels[v], LEVEL_FILLS[v]) for v in LEVELS],
            acts.designation_days, veil,
        )  # fmt: skip
    if acts.appeals is not None:
        charts["appeals"] = appeals_chart(acts.appeals, _, authorities)
    if acts.findings is not None:
        charts["findings"] = table_bars(
            "findings-chart", _("Oversight findings per detector"), acts.findings,
            [Series(FOUND, _("Findings"), PALETTE[1])], detectors, veil,
        )  # fmt: skip
    if acts.cases is not None:
        origins = {"appeal": _("from an escalated appeal"), "finding": _("from a finding")}
        charts["cases"] = table_bars(
            "cases-chart", _("Oversight cases by status"), acts.cases,
            [Series(o, origins[o], PALETTE[n]) for n, o in enumerate(CASE_ORIGINS)],
            case_statuses(_), veil,
        )  # fmt: skip
    return charts


def appeals_chart(appeals: Table, _: Gettext, authorities: Mapping[str, str]) -> Markup:
    return table_bars(
        "appeals-chart", _("Appeals per authority, by outcome"), appeals,
        outcome_series(_), authorities, hidden(_),
    )  # fmt: skip


def case_statuses(_: Gettext) -> dict[str, str]:
    return {"open": _("open"), "investigating": _("under investigation"),
            "referred": _("referred"), "closed": _("closed")}  # fmt: skip


def table_bars(
    chart_id: str, title: str, table: Table, series: list[Series], labels: Mapping[str, str],
    veil: str,
) -> Markup:  # fmt: skip
    """A bar per row of a protected table, stacked by its columns (the ones ``series`` name)."""
    rows = [
        (labels.get(row, row), [table.cell(row, s.key) for s in series])
        for row in table.rows
        if any(table.cell(row, s.key) != 0 for s in series)
    ]
    return bars(chart_id, title, rows, series, veil)
