"""Steps in Home Assistant's frontend that the browser tests share: log in, change the language, read a device page
and the energy dashboard's sensor picker. Locators go by the frontend's elements where a label would change with
the language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from _develop import DEMO_PASSWORD, DEMO_USERNAME
from _ha_api import HomeAssistantApi
from playwright.sync_api import Locator, Page, expect

# One entity row's name on a device page: the element Home Assistant cuts with an ellipsis when it is too long.
ROW_NAME = "hui-generic-entity-row .info"
# How much room a name may lose when its value gets wider ("0 kWh" becoming "16,966.238 kWh" takes about 60 px).
TIGHT = 60


@dataclass(frozen=True)
class RowName:
    """An entity row's name as the page shows it, and whether the page cuts it."""

    text: str
    width: int  # what the whole name needs, in CSS pixels
    shown: int  # what the row gives it

    @property
    def cut(self) -> bool:
        """Return whether the page cuts the name (an ellipsis)."""
        return self.width > self.shown

    @property
    def tight(self) -> bool:
        """Return whether the name fits by less than a wider value takes (the value beside it sets the room)."""
        return self.width + TIGHT > self.shown

    def __str__(self) -> str:
        """Return the name and the room it needs and has."""
        return f"{self.text} ({self.width} px in {self.shown} px)"


def log_in(page: Page, api: HomeAssistantApi) -> None:
    """Log in as the demo owner and wait for the sidebar."""
    page.goto(api.base_url)
    page.locator("input[name=username]").fill(DEMO_USERNAME)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("ha-sidebar")).to_be_visible()


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send a websocket command through the frontend's own connection; return its result."""
    return page.evaluate("message => document.querySelector('home-assistant').hass.callWS(message)", message)


def set_language(page: Page, api: HomeAssistantApi, language: str) -> None:
    """Speak a language: the owner's (the frontend's texts) and the server's (device and entity names).

    Entity names are translated when an entry sets up its entities: each Linky Local entry is reloaded.
    """
    locale = {"language": language, "number_format": "language", "time_format": "language", "date_format": "language"}
    call_ws(page, {"type": "frontend/set_user_data", "key": "language", "value": locale})
    call_ws(page, {"type": "config/core/update", "language": language})
    for entry in api.config_entries("linky_local"):
        api.reload_config_entry(entry["entry_id"])
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", language)


def numbers_shown(api: HomeAssistantApi, device_id: str) -> int:
    """Return how many of the device's entities show a number."""
    template = f"{{{{ device_entities('{device_id}') | map('states') | select('is_number') | list | count }}}}"
    return int(api.render_template(template))


def open_device_page(page: Page, api: HomeAssistantApi, device_id: str) -> Locator:
    """Open a device page; return its entity cards once their rows show."""
    page.goto(f"{api.base_url}/config/devices/device/{device_id}")
    cards = page.locator("ha-device-entities-card")
    expect(cards.locator(ROW_NAME).first).to_be_visible()
    return cards


def row_names(cards: Locator) -> list[RowName]:
    """Return every entity row's name on the device page, and whether the page cuts it (ellipsis)."""
    # What a name needs: its overflow when cut, else the width of its text (the element fills the row's room).
    names = cards.locator(ROW_NAME).evaluate_all(
        """elements => elements.map(e => {
            const range = document.createRange();
            range.selectNodeContents(e);
            const text = Math.ceil(range.getBoundingClientRect().width);
            return [e.textContent.trim(), Math.max(e.scrollWidth > e.clientWidth ? e.scrollWidth : 0, text), e.clientWidth];
        })"""
    )
    return [RowName(text, width, shown) for text, width, shown in names]


def open_grid_dialog(page: Page, api: HomeAssistantApi) -> Locator:
    """Open the energy configuration's "Add grid connection" dialog; return it."""
    page.goto(f"{api.base_url}/config/energy/electricity")
    # The grid card's first filled button adds a connection (the next one, the carbon footprint).
    page.locator("ha-energy-grid-settings ha-button[appearance=filled]").first.click()
    dialog = page.locator("dialog-energy-grid-settings")
    expect(dialog.locator("ha-statistic-picker").first).to_be_visible()
    return dialog


@dataclass(frozen=True)
class PickerItem:
    """One statistic the energy picker offers: its name and the device it belongs to."""

    name: str
    device: str


def open_import_picker(dialog: Locator) -> Locator:
    """Open the dialog's first picker (energy imported from the grid); return its list."""
    dialog.locator("ha-statistic-picker").first.click()
    items = dialog.page.locator("ha-picker-combo-box .list-wrapper")
    expect(items.locator("ha-combo-box-item").first).to_be_visible()
    return items


# The element that scrolls the list: the list itself when short, its virtual list (items made as they show) when long.
SCROLLER = (
    "wrapper => [wrapper, ...wrapper.querySelectorAll('*')].find("
    "e => e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible')"
)


def picker_items(items: Locator) -> list[PickerItem]:
    """Return every statistic the open picker offers, scrolling through its list."""
    seen: dict[str, PickerItem] = {}
    items.evaluate(f"wrapper => {{ const s = ({SCROLLER})(wrapper); if (s) s.scrollTop = 0; }}")
    while True:
        for name, device in items.locator("ha-combo-box-item").evaluate_all(
            """elements => elements.map(e => [
                e.querySelector('[slot=headline]')?.textContent.trim() ?? '',
                e.querySelector('[slot=supporting-text]')?.textContent.trim() ?? '',
            ])"""
        ):
            if device:  # the list's help line ("Why is my entity not listed?") belongs to no device
                seen[f"{name}\n{device}"] = PickerItem(name, device)
        scrolled = items.evaluate(
            f"wrapper => {{ const s = ({SCROLLER})(wrapper); if (!s) return false;"
            " const before = s.scrollTop; s.scrollTop += s.clientHeight; return s.scrollTop > before; }"
        )
        if not scrolled:
            return list(seen.values())


def pick(items: Locator, name: str) -> None:
    """Choose the statistic of that name in the open picker, searching for it as a person types."""
    items.page.locator("ha-picker-combo-box ha-input-search input").fill(name)
    items.get_by_text(name, exact=True).first.click()
