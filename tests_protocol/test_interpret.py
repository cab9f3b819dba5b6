"""Meaning of coded values: tariff option and period, Tempo colours, relays, day profiles, meter address."""

from __future__ import annotations

from datetime import time

import pytest

from linky_tic.catalogue import DEMAIN_OPTIONS, OPTARIF_OPTIONS, PTEC_OPTIONS
from linky_tic.interpret import (
    MeterAddress,
    ProfileBlock,
    Relays,
    TariffOption,
    TariffPeriod,
    TempoColour,
    day_profile,
    tariff_option,
    tariff_period,
    tempo_tomorrow,
)
from linky_tools.encoder import day_profile_value, demain_value, optarif_value, ptec_value, relays_value


@pytest.mark.parametrize(
    ("value", "option"),
    [("BASE", TariffOption.BASE), ("HC..", TariffOption.HC), ("EJP.", TariffOption.EJP), ("BBR(", "tempo")],
)
def test_tariff_option(value: str, option: TariffOption) -> None:
    assert tariff_option(value) is TariffOption(option)
    assert tariff_option(optarif_value(TariffOption(option))) is TariffOption(option)


def test_enums_match_the_catalogue_options() -> None:
    assert tuple(TariffOption) == OPTARIF_OPTIONS
    assert tuple(TariffPeriod) == PTEC_OPTIONS
    assert tuple(TempoColour) == DEMAIN_OPTIONS


@pytest.mark.parametrize("period", list(TariffPeriod))
def test_tariff_period_round_trip(period: TariffPeriod) -> None:
    value = ptec_value(period)
    assert len(value) == 4
    assert tariff_period(value) is period


def test_tariff_period_meaning() -> None:
    assert tariff_period("HCJR").tempo_colour is TempoColour.RED
    assert tariff_period("HPJB").tempo_colour is TempoColour.BLUE
    assert tariff_period("HPJW").tempo_colour is TempoColour.WHITE
    assert tariff_period("HC..").tempo_colour is None
    assert tariff_period("HC..").off_peak
    assert tariff_period("HCJW").off_peak
    assert not tariff_period("HP..").off_peak
    assert not tariff_period("TH..").off_peak


@pytest.mark.parametrize("value", ["", "XX..", "HCJX", "BLEU"])
def test_unknown_codes(value: str) -> None:
    assert tariff_period(value) is None
    assert tariff_option(value) is None


def test_tempo_tomorrow() -> None:
    assert tempo_tomorrow("----") is TempoColour.UNKNOWN
    assert tempo_tomorrow("BLEU") is TempoColour.BLUE
    assert tempo_tomorrow("BLAN") is TempoColour.WHITE
    assert tempo_tomorrow("ROUG") is TempoColour.RED
    assert tempo_tomorrow("VERT") is None
    assert [demain_value(colour) for colour in TempoColour] == ["----", "BLEU", "BLAN", "ROUG"]


def test_relays() -> None:
    assert Relays.parse("000") == Relays(False, (False,) * 7)
    assert Relays.parse("001") == Relays(True, (False,) * 7)
    relays = Relays.parse("130")
    assert relays == Relays(False, (True, False, False, False, False, False, True))
    assert relays_value(relays) == "130"
    assert relays_value(Relays.parse("255")) == "255"
    for value in ("256", "", "0x1", "-01", "\uff11"):
        assert Relays.parse(value) is None


def test_day_profile() -> None:
    value = "00008002 0256C001 07568002 1156C001 14568002 NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE"
    blocks = day_profile(value)
    assert blocks == (
        ProfileBlock(time(0, 0), 0x8002),
        ProfileBlock(time(2, 56), 0xC001),
        ProfileBlock(time(7, 56), 0x8002),
        ProfileBlock(time(11, 56), 0xC001),
        ProfileBlock(time(14, 56), 0x8002),
    )
    assert [block.supplier_index for block in blocks] == [2, 1, 2, 1, 2]
    assert day_profile_value(blocks) == value
    assert day_profile(" ".join(["NONUTILE"] * 11)) == ()


@pytest.mark.parametrize("value", ["0000800", "2500C001", "0060C001", "00008G01", "AB008001", "00008001  NONUTILE"])
def test_not_a_day_profile(value: str) -> None:
    assert day_profile(value) is None


def test_meter_address() -> None:
    address = MeterAddress.parse("041876543210")
    assert address == MeterAddress("04", 2018, "76")
    assert address.manufacturer == "Landis+Gyr"
    assert address.model == "Linky three-phase 60 A (G3)"
    assert "543210" not in repr(address)
    old = MeterAddress.parse("029912000001")
    assert old.year == 1999
    assert old.manufacturer == "Sagemcom"
    assert old.model is None
    assert MeterAddress.parse("994099000001").manufacturer is None
    for value in ("81239900000", "8123990000012", "81239900000A", "\uff18\uff11" + "8" * 10):
        assert MeterAddress.parse(value) is None


@pytest.mark.parametrize(
    ("code", "model"),
    [
        ("60", "Linky single-phase 60 A (G1)"),
        ("61", "Linky single-phase 60 A (G3, top entry)"),  # G3, not G1: Enedis' CCTT list
        ("62", "Linky single-phase 90 A (G1)"),
        ("63", "Linky three-phase 60 A (G1)"),
        ("64", "Linky single-phase 60 A (G3)"),
        ("65", "Linky single-phase 90 A (G3, trial)"),
        ("67", "Linky single-phase 90 A (G1, pilot)"),
        ("68", "Linky three-phase 60 A (G1, pilot)"),
        ("70", "Linky single-phase 60 A (G3, interoperability)"),
        ("71", "Linky three-phase 60 A (G3, interoperability)"),
        ("75", "Linky single-phase 90 A (G3)"),
        ("76", "Linky three-phase 60 A (G3)"),
        ("66", None),  # the module of a modular meter: no Linky
        ("69", None),  # not attributed
    ],
)
def test_meter_types(code: str, model: str | None) -> None:
    address = MeterAddress.parse(f"0218{code}000001")
    assert address is not None
    assert address.model == model


@pytest.mark.parametrize(("code", "rating"), [("76", "60 A, G3"), ("65", "90 A, G3"), ("68", "60 A, G1")])
def test_meter_type_rating(code: str, rating: str) -> None:
    """The rated current and generation: what a device page shows in any language."""
    address = MeterAddress.parse(f"0218{code}000001")
    assert address is not None
    assert address.meter_type is not None
    assert address.meter_type.rating == rating
