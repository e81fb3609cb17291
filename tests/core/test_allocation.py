"""The default allocation policy."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from omnisdk import AllocationRequest, AllocationRule
from omnisdk.allocation import default_allocation


def request(rule: AllocationRule, *, unseen: int = 0) -> AllocationRequest:
    return AllocationRequest(sku="AO-DO-M", channel="shopee", account="sg",
                             on_hand={"hn": 10, "hcm": 6}, reserved={"hn": 3}, unseen=unseen,
                             rule=rule)


def test_all_free_stock_by_default() -> None:
    assert default_allocation(request(AllocationRule())) == 13


def test_locations_buffer_percentage_maximum_and_zero_below() -> None:
    assert default_allocation(request(AllocationRule(locations=("hcm",)))) == 6
    assert default_allocation(request(AllocationRule(safety_buffer=3))) == 10
    assert default_allocation(request(AllocationRule(percentage=Decimal(50)))) == 6
    assert default_allocation(request(AllocationRule(maximum=4))) == 4
    assert default_allocation(request(AllocationRule(zero_below=14))) == 0
    assert default_allocation(request(AllocationRule(), unseen=20)) == 0


@given(on_hand=st.integers(0, 1000), reserved=st.integers(0, 1000), unseen=st.integers(0, 50),
       buffer=st.integers(0, 20), pct=st.integers(0, 100))
def test_never_negative_never_more_than_free(on_hand: int, reserved: int, unseen: int,
                                             buffer: int, pct: int) -> None:
    rule = AllocationRule(safety_buffer=buffer, percentage=Decimal(pct))
    req = AllocationRequest(sku="S", channel="c", account="a", on_hand={"x": on_hand},
                            reserved={"x": reserved}, unseen=unseen, rule=rule)
    listed = default_allocation(req)
    assert 0 <= listed <= max(on_hand - reserved - unseen - buffer, 0)
