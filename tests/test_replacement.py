"""Moving an entry to a replacing meter: only the entry's own ids follow, and the household's name stays."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.linky_tic import Decoder, Group, Mode
from custom_components.linky_local.replacement import NewMeter, async_move_to_meter
from linky_tools.encoder import encode_frame

OLD, NEW = "041876543210", "041964543211"


async def test_move_keeps_the_name_and_foreign_ids(hass: HomeAssistant) -> None:
    """An entity id the entry did not make from the old serial stays; without a device, nothing else moves; the
    title, the household's name, stays."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id=OLD,
        minor_version=2,
        data={CONF_DEVICE: "socket://192.0.2.1:2000", CONF_MODE: "historic", CONF_BAUDRATE: 1200},
    )
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    own = registry.async_get_or_create("sensor", DOMAIN, f"{OLD}_BASE", config_entry=entry)
    foreign = registry.async_get_or_create("sensor", DOMAIN, "someone_else", config_entry=entry)
    [frame] = Decoder(Mode.STANDARD).feed(encode_frame(Mode.STANDARD, [Group("ADSC", NEW), Group("EAST", "000000001")]))

    await async_move_to_meter(hass, entry, NewMeter(NEW, Mode.STANDARD, 9600, frame), {})

    assert (entry.unique_id, entry.title) == (NEW, "Garage")
    assert (entry.data[CONF_MODE], entry.data[CONF_BAUDRATE]) == ("standard", 9600)
    assert registry.async_get(own.entity_id).unique_id == f"{NEW}_BASE"
    assert registry.async_get(foreign.entity_id).unique_id == "someone_else"
