"""Sources reaching people outside the population they serve."""

from healthcode.domain.oversight.reach import anomalous_sources


def test_a_source_with_records_about_outsiders_is_found() -> None:
    refs = [f"evidence:cdc-411700/x{i}" for i in range(12)]
    [found] = anomalous_sources({"cdc-411700": 400}, {"cdc-411700": refs})
    assert found.source_id == "cdc-411700" and len(found.outside) == 12
    assert found.share == 12 / 400


def test_a_stray_record_or_two_is_not() -> None:
    assert anomalous_sources({"lab-410100": 900}, {"lab-410100": ["evidence:lab-410100/t1"]}) == []
