"""Server-drawn SVG charts: hidden counts are drawn as one fixed-size hatched mark whatever
they hide, the series are named in words, text is escaped, and days are local days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from healthcode.services.public_days import Window
from healthcode.web.charts import MARKER, Series, bars, day_bars, ink_on, text_width

RED = Series("red", "Red code", "#c8102e")
YELLOW = Series("yellow", "Yellow <code>", "#e0a800")
DAYS = [date(2026, 6, d) for d in range(1, 5)]


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # well-formed XML, as an <img> needs


def rects(svg: str, kind: str) -> list[dict[str, str]]:
    ns = "{http://www.w3.org/2000/svg}"
    return [r.attrib for r in parsed(svg).iter(f"{ns}rect") if r.get("class") == kind]


def test_a_hidden_count_is_a_hatched_mark_of_one_size_and_its_value_is_nowhere() -> None:
    svg = day_bars("c", "Held", DAYS, [RED, YELLOW],
                   {"red": [40, "<10", 20, "×"], "yellow": ["<10", 12, 0, 30]}, "hidden")  # fmt: skip
    marks = rects(svg, "hidden")
    assert len(marks) == 3 and {m["height"] for m in marks} == {f"{MARKER:.1f}"}
    assert "2026-06-02 · Red code: &lt;10" in svg and "2026-06-04 · Red code: ×" in svg
    heights = {float(r["height"]) for r in rects(svg, "bar-red")}
    assert max(heights) == 2 * min(heights)  # 40 and 20, drawn to one scale
    assert "Yellow &lt;code&gt;" in svg and "<code>" not in svg
    assert "url(#c-hatch)" in svg and "hidden" in svg  # the legend names the mark


def test_bars_label_each_row_and_count_wide_segments() -> None:
    svg = bars("b", "Appeals", [("Zhengzhou", [30, "<10"]), ("Luoyang", ["<10", "<10"])],
               [RED, YELLOW], "hidden")  # fmt: skip
    assert "Zhengzhou" in svg and "Luoyang" in svg
    assert ">30</text>" in svg  # wide enough to carry its number
    assert len(rects(svg, "hidden")) == 3
    assert "Zhengzhou · Yellow &lt;code&gt;: &lt;10" in svg


def test_a_chart_without_hidden_counts_has_no_mark_in_its_legend() -> None:
    svg = day_bars("d", "t", DAYS[:2], [RED], {"red": [1, 0]}, "hidden count")
    assert "hidden count" not in svg


def test_text_helpers() -> None:
    assert text_width("郑州") == 18 and round(text_width("ab"), 2) == 10.08  # an em; about half
    assert ink_on("#e0a800") == "#1a1a1a" and ink_on("#0072B2") == "#ffffff"


def test_days_are_local_calendar_days_even_across_a_clock_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # summer time began at 02:00 on 29 March 2026
    window = Window.ending(datetime(2026, 3, 30, 12, tzinfo=UTC), berlin, 3)
    assert window.days == (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30))
    assert [s.astimezone(berlin).hour for s in window.starts] == [0, 0, 0, 0]
    assert (window.starts[2] - window.starts[1]).total_seconds() == 23 * 3600
    shanghai = Window.ending(datetime(2026, 6, 1, 17, tzinfo=UTC), ZoneInfo("Asia/Shanghai"), 1)
    assert shanghai.days == (date(2026, 6, 2),)  # 01:00 the next morning there
    assert shanghai.ends[-1] == shanghai.now
