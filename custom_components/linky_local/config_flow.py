"""Config flow of Linky Local: find the meter on a port, identify it, store how to read it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
import os
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    # Home Assistant 2026.10 installs probatio under the name voluptuous and types its flows with it; 2026.5 ships
    # voluptuous itself. Type-check against the newer one, import whichever the running version provides.
    import probatio as vol
else:
    import voluptuous as vol

from homeassistant.components import usb
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    SerialPortSelector,
    TextSelector,
)
from homeassistant.helpers.service_info.usb import UsbServiceInfo

from .const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, CONF_USB_DEVICE, CONF_USB_ID, DOMAIN, MODE_AUTO
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .device import DEFAULT_NAME, async_kind_names, free_name
from .esphome_proxy import async_proxy_error
from .ledger import Words, async_read, summary
from .linky_tic import (
    ConnectionClosedError,
    ConnectionRefusedLinkError,
    Detection,
    GarbageReceivedError,
    HostNotFoundError,
    HostUnreachableError,
    InvalidPortError,
    Mode,
    NothingReceivedError,
    PermissionRefusedError,
    PortBusyError,
    PortNotFoundError,
    PortUnavailableError,
    Rfc2217NegotiationError,
    TicLinkError,
    detect,
)
from .meter import meter_kind, serial_number
from .meter_change import async_raise_issue
from .privacy import (
    CONF_FINE_RETENTION,
    CONF_POWER_STATISTICS,
    CONF_PRIVACY_LEVEL,
    DEFAULT_PRIVACY_LEVEL,
    FineRetention,
    PrivacyLevel,
    fine_retention,
    power_statistics,
    privacy_level,
)
from .redaction import filter_line_payloads

_LOGGER = logging.getLogger(__name__)

# The slowest read that can succeed stays below this: auto on a serial port listens up to 4 s at 9600 baud then 7 s
# at 1200, and each retry for a serial number up to 7 s more at the speed found. Past it the port hangs (a host that
# does not answer, an RFC 2217 server that never negotiates).
PROBE_TIMEOUT: Final = 30.0
# A frame whose ADCO/ADSC group was corrupted lacks the serial number: read a few more before giving up.
IDENTIFY_ATTEMPTS: Final = 3

# Each way a port can fail has its own words; a cause none of these names falls back to its parent's.
LINK_ERRORS: Final[dict[type[TicLinkError], str]] = {
    PortUnavailableError: "cannot_connect",
    PortNotFoundError: "port_not_found",
    PermissionRefusedError: "permission_denied",
    InvalidPortError: "invalid_port",
    ConnectionRefusedLinkError: "connection_refused",
    HostNotFoundError: "host_not_found",
    HostUnreachableError: "host_unreachable",
    ConnectionClosedError: "connection_closed",
    Rfc2217NegotiationError: "rfc2217_negotiation",
    PortBusyError: "port_busy",
    NothingReceivedError: "nothing_received",
    GarbageReceivedError: "garbage_received",
}

MODE_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=[MODE_AUTO, Mode.HISTORIC.value, Mode.STANDARD.value],
        mode=SelectSelectorMode.LIST,
        translation_key="tic_mode",
    )
)
DATA_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_DEVICE): SerialPortSelector(),
        vol.Required(CONF_MODE, default=MODE_AUTO): MODE_SELECTOR,
    }
)


def privacy_selector(mode: Mode) -> SelectSelector:
    """Offer the levels, worded for the meter's mode: a historic meter sends no voltage, so its words name none."""
    return SelectSelector(
        SelectSelectorConfig(
            options=[level.value for level in PrivacyLevel],
            mode=SelectSelectorMode.LIST,
            translation_key=CONF_PRIVACY_LEVEL if mode is Mode.STANDARD else f"{CONF_PRIVACY_LEVEL}_{mode}",
        )
    )


RETENTION_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=[retention.value for retention in FineRetention],
        mode=SelectSelectorMode.DROPDOWN,
        translation_key=CONF_FINE_RETENTION,
    )
)


def options_schema(mode: Mode) -> vol.Schema:
    """Build the options form: the level, how long fine states stay, whether power keeps hourly statistics."""
    return vol.Schema(
        {
            vol.Required(CONF_PRIVACY_LEVEL): privacy_selector(mode),
            vol.Optional(CONF_FINE_RETENTION): RETENTION_SELECTOR,
            vol.Optional(CONF_POWER_STATISTICS): BooleanSelector(),
        }
    )


def privacy_schema(mode: Mode, name: str) -> vol.Schema:
    """Build the setup's last form: the meter's name (`name` offered) and its level, the default one selected."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME, default=name): TextSelector(),
            vol.Required(CONF_PRIVACY_LEVEL, default=DEFAULT_PRIVACY_LEVEL.value): privacy_selector(mode),
        }
    )


class NoSerialNumberError(Exception):
    """Frames arrived, none with the meter's serial number."""


class LinkyLocalConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Linky meter's TIC connection."""

    VERSION = 1
    # 2: the title is the meter's name, in no language ("Linky", "Linky 2", or the household's own).
    MINOR_VERSION = 2

    _discovered_device: str
    _usb_id: str | None = None
    _found: tuple[str, dict[str, Any]]  # the meter's kind, in words, and the data of its entry

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: LinkyConfigEntry) -> LinkyLocalOptionsFlow:
        """Return the flow of the meter's privacy level."""
        return LinkyLocalOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the port and the mode, then read the meter on it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = await self._async_stable_path(user_input[CONF_DEVICE])
            await self._async_abort_if_port_configured(device)
            if (found := await self._async_identify(device, user_input[CONF_MODE], errors)) is not None:
                return await self._async_create_meter_entry(device, *found)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(DATA_SCHEMA, user_input),
            errors=errors,
            description_placeholders=_tried(user_input),
        )

    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """Offer a discovered TIC dongle; the port stays closed until the user confirms."""
        self._discovered_device = await self._async_stable_path(discovery_info.device)
        self._usb_id = usb.usb_unique_id_from_service_info(discovery_info)
        # A temporary id, replaced by the meter's serial number once read: it lets the user ignore this dongle and
        # stops a second discovery of it while this one waits.
        await self.async_set_unique_id(self._usb_id)
        self._abort_if_unique_id_configured()
        await self._async_follow_dongle(self._usb_id, self._discovered_device)
        await self._async_abort_if_port_configured(self._discovered_device)
        self.context["title_placeholders"] = {
            "name": usb.human_readable_device_name(
                discovery_info.device,
                discovery_info.serial_number,
                discovery_info.manufacturer,
                discovery_info.description,
                discovery_info.vid,
                discovery_info.pid,
            )
        }
        return await self.async_step_usb_confirm()

    async def async_step_usb_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Read the meter on the discovered port once the user agrees."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = self._discovered_device
            if (found := await self._async_identify(device, MODE_AUTO, errors)) is not None:
                return await self._async_create_meter_entry(device, *found)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="usb_confirm",
            description_placeholders={**self.context["title_placeholders"], CONF_DEVICE: self._discovered_device},
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the port or the mode of a configured meter; it must stay the same meter."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            device = await self._async_stable_path(user_input[CONF_DEVICE])
            if await self.hass.async_add_executor_job(_same_port_in, device, [entry.data[CONF_DEVICE]]):
                found = await self._async_identify_held_port(entry, device, user_input[CONF_MODE], errors)
                if found is not None and found[1] != entry.unique_id:
                    return self.async_abort(reason="meter_changed")
            else:
                # Another port: the running meter keeps reading its own while this one is probed.
                found = await self._async_identify(device, user_input[CONF_MODE], errors)
            if found is not None:
                detection, serial = found
                await self.async_set_unique_id(serial, raise_on_progress=False)
                self._abort_if_unique_id_mismatch(reason="wrong_meter")
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, **_entry_data(device, detection)}
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                # Our own words, which name the port just read: never a success for a port that was not probed.
                return self.async_abort(
                    reason="connection_updated", description_placeholders={"name": entry.title, CONF_DEVICE: device}
                )
        suggested: Mapping[str, Any] = user_input or {CONF_DEVICE: entry.data[CONF_DEVICE], CONF_MODE: MODE_AUTO}
        # The add flow's own form: the same port field, with its list of detected ports and its manual entry.
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(DATA_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"name": entry.title} | _tried(user_input),
        )

    async def _async_identify_held_port(
        self, entry: ConfigEntry, device: str, mode: str, errors: dict[str, str]
    ) -> tuple[Detection, str] | None:
        """Read the port the entry itself reads, which the entry must let go meanwhile.

        serialx locks a local port exclusively, and ser2net serves one client at a time (a second one is turned away,
        or with `kickolduser` takes the line from the first). So the meter's entities are unavailable for the few
        seconds of the probe; whatever it finds, the entry is set up again (with the new data on success, by the
        caller's update). Another meter on it (often one that replaced it, in another TIC mode) raises the repair
        that asks which, before the entry is set up again: its reader clears it at its own meter's first frame.
        """
        released = await self._async_release_port(entry)
        found = await self._async_identify(device, mode, errors)
        if found is not None and found[1] != entry.unique_id:
            async_raise_issue(self.hass, entry)
        if released and (found is None or found[1] != entry.unique_id):
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return found

    async def _async_identify(self, device: str, mode: str, errors: dict[str, str]) -> tuple[Detection, str] | None:
        """Read the meter on a port: its detection and serial number, or None with `errors` filled in."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                return await identify(device, None if mode == MODE_AUTO else Mode(mode))
        except TimeoutError:
            errors["base"] = "timeout_connect"
        except NoSerialNumberError:
            errors["base"] = "no_serial_number"
        except NothingReceivedError as err:
            _LOGGER.debug("No meter read on %s: %s", device, err)
            builtin = await self.hass.async_add_executor_job(_builtin_port, device)
            errors["base"] = "nothing_received_builtin" if builtin else "nothing_received"
        except TicLinkError as err:
            _LOGGER.debug("No meter read on %s: %s", device, err)
            errors["base"] = async_proxy_error(self.hass, device) or _error_key(err)
        except Exception:
            _LOGGER.exception("Unexpected error while reading %s", device)
            errors["base"] = "unknown"
        return None

    async def _async_create_meter_entry(self, device: str, detection: Detection, serial: str) -> ConfigFlowResult:
        """Ask the privacy level of a newly read meter, unless it is already configured."""
        await self.async_set_unique_id(serial, raise_on_progress=False)
        self._abort_if_unique_id_configured()
        data = _entry_data(device, detection)
        if (usb_id := self._usb_id or await self.hass.async_add_executor_job(_usb_id_at, device)) is not None:
            data |= {CONF_USB_ID: usb_id, CONF_USB_DEVICE: device}
        kind = (await async_kind_names(self.hass)).get(meter_kind(detection.frame).translation_key)
        self._found = (DEFAULT_NAME if kind is None else f"{DEFAULT_NAME} - {kind}", data)
        return await self.async_step_privacy()

    async def async_step_privacy(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask the meter's name and how finely it is recorded (each level told in a sentence), then create it.

        The name is the entry's title and the device's name, so that two meters read apart everywhere (the energy
        dashboard's pickers, history, repairs); it is in no language, and never the serial number.
        """
        kind, data = self._found
        errors: dict[str, str] = {}
        taken = {entry.title for entry in self._async_current_entries(include_ignore=False)}
        offered = free_name(taken)
        if user_input is not None:
            name = " ".join(user_input[CONF_NAME].split()) or offered
            if name.casefold() in {title.casefold() for title in taken}:
                errors[CONF_NAME] = "name_in_use"
            else:
                return self.async_create_entry(
                    title=name, data=data, options={CONF_PRIVACY_LEVEL: user_input[CONF_PRIVACY_LEVEL]}
                )
        return self.async_show_form(
            step_id="privacy",
            data_schema=self.add_suggested_values_to_schema(privacy_schema(Mode(data[CONF_MODE]), offered), user_input),
            description_placeholders={"name": kind},
            errors=errors,
        )

    async def _async_follow_dongle(self, usb_id: str, device: str) -> None:
        """Abort when an entry reads this dongle; move the entry to `device` first if it had another path."""
        for entry in self._async_current_entries(include_ignore=False):
            data = entry.data
            if data.get(CONF_USB_ID) != usb_id or data.get(CONF_USB_DEVICE) != data.get(CONF_DEVICE):
                continue
            if not await self.hass.async_add_executor_job(_same_port_in, device, [data[CONF_DEVICE]]):
                _LOGGER.debug("The dongle of %s is now on another path; the entry follows it", entry.title)
                self.hass.config_entries.async_update_entry(
                    entry, data={**data, CONF_DEVICE: device, CONF_USB_DEVICE: device}
                )
                if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY):
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
            raise AbortFlow("already_configured")

    async def _async_stable_path(self, device: str) -> str:
        """Return a local port's /dev/serial/by-id path when it has one, which survives replugging; else `device`."""
        device = device.strip()
        if not device.startswith("/"):
            return device
        return await self.hass.async_add_executor_job(_serial_by_id, device)

    async def _async_abort_if_port_configured(self, device: str) -> None:
        """Abort when another entry already reads this port, whatever name it was given."""
        # A disabled entry reads nothing: the household stopped it when another meter came on its port.
        configured = [
            entry.data[CONF_DEVICE]
            for entry in self._async_current_entries(include_ignore=False)
            if CONF_DEVICE in entry.data and entry.disabled_by is None
        ]
        if await self.hass.async_add_executor_job(_same_port_in, device, configured):
            raise AbortFlow("already_configured")

    async def _async_release_port(self, entry: ConfigEntry) -> bool:
        """Unload the entry if it may hold its port; tell whether it did."""
        if entry.state not in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY):
            return False
        return await self.hass.config_entries.async_unload(entry.entry_id)


class LinkyLocalOptionsFlow(OptionsFlowWithReload):
    """Choose the meter's privacy level and retention; the entry reloads with them, its recorded history stays."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show which meter, what its database keeps now (the ledger's summary), and the choices, current ones set."""
        entry = self.config_entry
        if user_input is not None:
            return self.async_create_entry(data={**entry.options, **user_input})
        words = await Words.async_load(self.hass)
        if entry.state is ConfigEntryState.LOADED and isinstance(entry.runtime_data, LinkyCoordinator):
            statement = summary(await async_read(self.hass, entry), words)["statement"]
        else:
            statement = words("summary_not_running")
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                options_schema(Mode(entry.data[CONF_MODE])),
                {
                    CONF_PRIVACY_LEVEL: privacy_level(entry).value,
                    CONF_FINE_RETENTION: fine_retention(entry).value,
                    CONF_POWER_STATISTICS: power_statistics(entry),
                },
            ),
            description_placeholders={"name": entry.title, "summary": statement},
        )


async def identify(device: str, mode: Mode | None) -> tuple[Detection, str]:
    """Detect the line and read frames until one carries the meter's serial number."""
    filter_line_payloads()  # serialx's debug records carry the line's bytes, identifiers included
    for _ in range(IDENTIFY_ATTEMPTS):
        detection = await detect(device, mode)
        if serial := serial_number(detection.frame):
            return detection, serial
        mode = detection.mode
    raise NoSerialNumberError


def _error_key(err: TicLinkError) -> str:
    """Return the error key of the most specific kind of link error that has one."""
    return next((LINK_ERRORS[kind] for kind in type(err).__mro__ if kind in LINK_ERRORS), "cannot_connect")


def _entry_data(device: str, detection: Detection) -> dict[str, Any]:
    return {CONF_DEVICE: device, CONF_MODE: detection.mode.value, CONF_BAUDRATE: detection.baudrate}


def _tried(user_input: Mapping[str, Any] | None) -> dict[str, str]:
    """Return the port a form's errors speak of: the one just tried, which may no longer be the one shown."""
    return {CONF_DEVICE: str(user_input[CONF_DEVICE]).strip() if user_input else ""}


def _builtin_port(device: str) -> bool:
    """Tell whether a local port is a serial port built into the computer (ttyS0...), not a USB adapter's."""
    if not device.startswith("/") or _usb_id_at(device) is not None:
        return False
    return os.path.basename(os.path.realpath(device)).startswith(("ttyS", "ttyAMA"))


def _usb_id_at(device: str) -> str | None:
    """Return the USB identity of the dongle behind a local port, None for other ports."""
    if not device.startswith("/") or (found := usb.usb_device_from_path(device)) is None:
        return None
    return usb.usb_unique_id_from_service_info(usb.usb_service_info_from_device(found))


def _serial_by_id(device: str) -> str:
    real_path = os.path.realpath(device)
    by_id = usb.get_serial_by_id(real_path)
    return device if by_id == real_path else by_id


def _same_port_in(device: str, configured: list[str]) -> bool:
    return _port_identity(device) in {_port_identity(other) for other in configured}


def _port_identity(device: str) -> str:
    return os.path.realpath(device) if device.startswith("/") else device
