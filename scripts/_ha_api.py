"""A small client of Home Assistant's HTTP API, standard library only.

It takes the paths a person takes in the UI: onboarding, the login flow, config flows. scripts/develop and the
browser test (tests/e2e) share it.
"""

from __future__ import annotations

from http import HTTPStatus
import json
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request


class HomeAssistantApiError(RuntimeError):
    """Home Assistant answered a request with an error."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        """Keep what the server said."""
        super().__init__(f"{method} {path}: HTTP {status}: {body[:500]}")
        self.status = status


class HomeAssistantApi:
    """Talk to one Home Assistant instance as its owner."""

    def __init__(self, base_url: str) -> None:
        """Point the client at an instance, e.g. http://localhost:8123."""
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None

    @property
    def client_id(self) -> str:
        """Return the OAuth client id the frontend itself uses."""
        return f"{self.base_url}/"

    @property
    def redirect_uri(self) -> str:
        """Return the frontend's redirect URI."""
        return f"{self.base_url}/?auth_callback=1"

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None, *, form: bool = False) -> Any:
        """Send one request; return the decoded JSON answer, the text of any other, or None for an empty one."""
        headers = {}
        data = None
        if payload is not None and form:
            data = urllib.parse.urlencode(payload).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310
                body = response.read().decode()
                is_json = response.headers.get_content_type() == "application/json"
        except urllib.error.HTTPError as err:
            raise HomeAssistantApiError(method, path, err.code, err.read().decode(errors="replace")) from err
        if not body:
            return None
        return json.loads(body) if is_json else body

    def is_up(self) -> bool:
        """Return whether the HTTP server answers (it does before every integration is set up)."""
        try:
            self.request("GET", "/api/onboarding")
        except HomeAssistantApiError:
            return True
        except OSError:
            return False
        return True

    def is_running(self) -> bool:
        """Return whether Home Assistant has finished starting (an owner's token is needed).

        Its HTTP server answers long before: on a first start it is still installing packages, and a frontend that
        loads then can fail to list the services and stay on "Loading..." for good.
        """
        return bool(self.request("GET", "/api/config").get("state") == "RUNNING")

    def onboarding_steps_done(self) -> dict[str, bool]:
        """Return the onboarding steps and whether each is done (none once an instance is onboarded)."""
        try:
            steps = self.request("GET", "/api/onboarding")
        except HomeAssistantApiError as err:
            if err.status == HTTPStatus.NOT_FOUND:  # onboarding's views are gone once it is over
                return {}
            raise
        return {step["step"]: step["done"] for step in steps}

    def onboard(self, *, name: str, username: str, password: str, language: str = "en") -> None:
        """Finish onboarding as the frontend does: owner account, core config, analytics, integrations."""
        done = self.onboarding_steps_done()
        if not done.get("user"):
            answer = self.request(
                "POST",
                "/api/onboarding/users",
                {
                    "client_id": self.client_id,
                    "name": name,
                    "username": username,
                    "password": password,
                    "language": language,
                },
            )
            self._token_from_code(answer["auth_code"])
        else:
            self.login(username, password)
        if not done.get("core_config"):
            self.request("POST", "/api/onboarding/core_config", {})
        if not done.get("analytics"):
            self.request("POST", "/api/onboarding/analytics", {})
        if not done.get("integration"):
            self.request(
                "POST",
                "/api/onboarding/integration",
                {"client_id": self.client_id, "redirect_uri": self.redirect_uri},
            )

    def login(self, username: str, password: str) -> None:
        """Log in through the login flow, as the login page does."""
        flow = self.request(
            "POST",
            "/auth/login_flow",
            {"client_id": self.client_id, "handler": ["homeassistant", None], "redirect_uri": self.redirect_uri},
        )
        result = self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
        )
        if result.get("type") != "create_entry":
            raise HomeAssistantApiError("POST", "/auth/login_flow", HTTPStatus.UNAUTHORIZED, json.dumps(result))
        self._token_from_code(result["result"])

    def _token_from_code(self, code: str) -> None:
        self.token = None
        tokens = self.request(
            "POST",
            "/auth/token",
            {"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
            form=True,
        )
        self.token = tokens["access_token"]

    def config_entries(self, domain: str) -> list[dict[str, Any]]:
        """Return the config entries of an integration."""
        return list(self.request("GET", f"/api/config/config_entries/entry?domain={urllib.parse.quote(domain)}"))

    def all_config_entries(self) -> list[dict[str, Any]]:
        """Return every config entry, of every integration."""
        return list(self.request("GET", "/api/config/config_entries/entry"))

    def remove_config_entry(self, entry_id: str) -> None:
        """Remove a config entry."""
        self.request("DELETE", f"/api/config/config_entries/entry/{entry_id}")

    def reload_config_entry(self, entry_id: str) -> None:
        """Reload a config entry (its entities are added again, their names in the server's language)."""
        self.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")

    def start_config_flow(self, domain: str) -> dict[str, Any]:
        """Start an integration's config flow as "Add integration" does; return its first step."""
        return dict(self.request("POST", "/api/config/config_entries/flow", {"handler": domain}))

    def continue_config_flow(self, flow_id: str, user_input: dict[str, Any]) -> dict[str, Any]:
        """Submit a config flow step; return the next step or the result."""
        return dict(self.request("POST", f"/api/config/config_entries/flow/{flow_id}", user_input))

    def render_template(self, template: str) -> str:
        """Render a template on the server."""
        return str(self.request("POST", "/api/template", {"template": template}))

    def integration_states(self, domain: str) -> dict[str, str]:
        """Return the state of every entity of an integration."""
        rendered = self.render_template(
            "{% set ns = namespace(d={}) %}{% for e in integration_entities('" + domain + "') %}"
            "{% set ns.d = dict(ns.d, **{e: states(e)}) %}{% endfor %}{{ ns.d | to_json }}"
        )
        return {entity_id: str(state) for entity_id, state in json.loads(rendered).items()}

    def device_ids(self, domain: str) -> set[str]:
        """Return the ids of the devices that an integration's entities belong to."""
        rendered = self.render_template(
            "{{ integration_entities('" + domain + "') | map('device_id') | reject('none') | unique | list | to_json }}"
        )
        return set(json.loads(rendered))


def wait_for(condition: Any, *, timeout: float, interval: float = 1.0, what: str) -> Any:
    """Call condition until it returns something truthy; raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(interval)
