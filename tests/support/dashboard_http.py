"""Dashboard clients over real HTTP (for attacks on a real gunicorn): browsers at chosen
addresses, the sign-in form, an API token's reader.

A browser's address is either its socket's (`source`: any 127.x.y.z, Linux routes the
whole loopback /8) or what a proxy in front would have told the app (`forwarded_for`, sent
as X-Forwarded-For, believed only with TRUSTED_PROXIES).
"""

from __future__ import annotations

import re
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from tests.support.dashboard import PASSWORDS

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')


class _FromAddress(HTTPAdapter):
    """Connections made from a chosen local address."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser(requests.Session):
    """One person's browser at `base` (cookies kept), seen by the app at a chosen address."""

    def __init__(self, base: str, source: str | None = None, forwarded_for: str | None = None) -> None:
        super().__init__()
        self.base = base
        if source:
            self.mount("http://", _FromAddress(source))
        if forwarded_for:
            self.headers["X-Forwarded-For"] = forwarded_for

    def sign_in(self, username: str, password: str | None = None) -> requests.Response:
        """The sign-in form as a person uses it: GET for its token, POST the credentials."""
        page = self.get(self.base + "/dashboard/signin", timeout=30, allow_redirects=False)
        found = _CSRF_INPUT.search(page.text)
        assert found, f"no sign-in form ({page.status_code})"
        return self.post(
            self.base + "/dashboard/signin",
            timeout=30,
            allow_redirects=False,
            data={
                "csrf_token": found.group(1),
                "username": username,
                "password": PASSWORDS.get(username, "") if password is None else password,
            },
        )

    def page_csrf(self) -> str:
        page = self.get(self.base + "/dashboard", timeout=30, allow_redirects=False)
        assert page.status_code == 200, page.status_code
        found = _CSRF_DATA.search(page.text)
        assert found
        return found.group(1)

    def act(self, path: str, **form: str) -> requests.Response:
        """A sergeant's action as the page sends it: CSRF header, confirmed."""
        return self.post(
            self.base + path, data={"confirm": "yes", **form}, headers={"X-CSRF-Token": self.page_csrf()}, timeout=30
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
