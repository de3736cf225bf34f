"""Designations without supporting cases."""

from healthcode.domain.oversight.designations import DesignationSupport, unsupported


def _support(claimed: int, supported: int) -> DesignationSupport:
    return DesignationSupport("des-1", "health-410100", "v-station", claimed, supported)


def test_a_designation_nobody_ill_went_near_is_unsupported() -> None:
    assert unsupported(_support(claimed=5, supported=0))
    assert unsupported(_support(claimed=30, supported=3))  # far more claimed than shown


def test_a_designation_the_records_bear_out_is_supported() -> None:
    assert not unsupported(_support(claimed=3, supported=3))
    # One case counted on each of three days: the claim is larger, but within the margin.
    assert not unsupported(_support(claimed=6, supported=1))
