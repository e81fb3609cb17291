"""Manual counts and adjustments refuse what would silently make a wrong state.

An unknown SKU or location, a removal below zero and a quantity out of range each raise a
typed :class:`~omnisdk.OmnisdkError` saying what and where, and change nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from omnisdk import InsufficientStock, InvalidValue, Money, Product, UnknownRecord, Variant
from omnisdk.config import Config, EngineConfig, StoreConfig
from omnisdk.models import MAX_QUANTITY
from omnisdk.sync import SyncEngine

AO_DAI = "ÁO-DÀI-ĐỎ-M"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[SyncEngine]:
    """An engine with no channels, one master product and a second configured location."""
    config = Config(
        store=StoreConfig(url=f"sqlite:///{tmp_path / 'omnisdk.db'}"),
        engine=EngineConfig(default_location="main", locations=("kho-đà-nẵng",)),
    )
    with SyncEngine(config) as opened:
        opened.engine.store.upsert_product(
            Product(
                title="Áo dài lụa",
                variants=[Variant(sku=AO_DAI, price=Money.of(850000, "VND"))],
            )
        )
        yield opened


def on_hand(engine: SyncEngine, sku: str = AO_DAI) -> dict[str, int]:
    return {level.location: level.on_hand for level in engine.stock_view(sku).locations}


def test_a_sku_outside_the_master_catalog_is_refused(engine: SyncEngine) -> None:
    with pytest.raises(UnknownRecord, match=r"SKU 'NO-SUCH-SKU' is not in the master catalog"):
        engine.set_stock("NO-SUCH-SKU", 5)
    with pytest.raises(UnknownRecord, match="catalog import"):
        engine.adjust_stock("NO-SUCH-SKU", 5)
    assert engine.stock_view("NO-SUCH-SKU").locations == []


def test_a_location_the_config_does_not_name_is_refused(engine: SyncEngine) -> None:
    with pytest.raises(
        UnknownRecord, match=r"location 'nowhere' is not known.*\[engine\] locations"
    ):
        engine.set_stock(AO_DAI, 5, location="nowhere")
    with pytest.raises(UnknownRecord, match="nowhere"):
        engine.adjust_stock(AO_DAI, 5, location="nowhere")
    assert on_hand(engine) == {}
    assert engine.set_stock(AO_DAI, 5, location="kho-đà-nẵng")
    assert engine.set_stock(AO_DAI, 2)  # the default location
    assert on_hand(engine) == {"kho-đà-nẵng": 5, "main": 2}


def test_an_adjustment_never_takes_on_hand_below_zero(engine: SyncEngine) -> None:
    engine.set_stock(AO_DAI, 3)
    with pytest.raises(InsufficientStock, match="on hand is 3, cannot remove 5") as caught:
        engine.adjust_stock(AO_DAI, -5)
    assert (caught.value.on_hand, caught.value.delta, caught.value.location) == (3, -5, "main")
    assert on_hand(engine) == {"main": 3}
    assert engine.adjust_stock(AO_DAI, -3)
    assert on_hand(engine) == {"main": 0}
    with pytest.raises(InsufficientStock, match="on hand is 0"):
        engine.adjust_stock(AO_DAI, -99_300)


def test_a_replayed_key_is_a_no_op_even_when_it_could_not_apply_now(engine: SyncEngine) -> None:
    engine.set_stock(AO_DAI, 3)
    assert engine.adjust_stock(AO_DAI, -2, key="phiếu-xuất-7") is True
    # Replaying the same delivery note changes nothing and is not an error.
    assert engine.adjust_stock(AO_DAI, -2, key="phiếu-xuất-7") is False
    assert on_hand(engine) == {"main": 1}


@pytest.mark.parametrize("quantity", [10**30, MAX_QUANTITY + 1, -1])
def test_a_count_out_of_range_is_refused(engine: SyncEngine, quantity: int) -> None:
    with pytest.raises(InvalidValue, match="out of range") as caught:
        engine.set_stock(AO_DAI, quantity)
    assert isinstance(caught.value, ValueError)  # callers catching ValueError still do
    assert on_hand(engine) == {}


def test_the_largest_count_is_accepted_and_cannot_be_exceeded(engine: SyncEngine) -> None:
    assert engine.set_stock(AO_DAI, MAX_QUANTITY)
    with pytest.raises(InvalidValue, match="would exceed"):
        engine.adjust_stock(AO_DAI, 1)
    with pytest.raises(InvalidValue, match="out of range"):
        engine.adjust_stock(AO_DAI, -(10**30))
    assert on_hand(engine) == {"main": MAX_QUANTITY}


def test_a_sku_typed_with_invisible_characters_counts_the_visible_one(
    engine: SyncEngine,
) -> None:
    decomposed = unicodedata.normalize("NFD", AO_DAI)
    assert engine.set_stock("ÁO-DÀI\u200b-ĐỎ-M", 4)
    assert engine.adjust_stock(decomposed, 1)
    assert on_hand(engine, "\ufeff" + AO_DAI) == {"main": 5}
    assert engine.stock_view(AO_DAI).sku == AO_DAI
    with pytest.raises(InvalidValue, match=r"control character \(U\+0000\)"):
        engine.set_stock("ÁO\x00", 1)
    with pytest.raises(InvalidValue, match=r"control character \(U\+0009\)"):
        engine.mark_dirty(["ÁO\tDÀI"])  # every SDK entry taking a SKU holds it to the rule


def test_a_trusted_stock_take_may_create_what_it_counts(engine: SyncEngine) -> None:
    # A POS stock take is the truth for its branches and SKUs (omnisdk_pos.count_into_engine).
    assert engine.set_stock("NƯỚC-MẮM-PHÚ-QUỐC", 3, location="chi-nhánh-09", create=True)
    view = engine.stock_view("NƯỚC-MẮM-PHÚ-QUỐC")
    assert [(lv.location, lv.on_hand) for lv in view.locations] == [("chi-nhánh-09", 3)]
    with pytest.raises(InvalidValue, match="out of range"):
        engine.set_stock("NƯỚC-MẮM-PHÚ-QUỐC", 10**30, create=True)  # bounds still hold
