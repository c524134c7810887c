"""The pages' icon: linked from every dashboard page, served without a session, cached for a
year under a URL that changes with its content."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET

from tests.support.dashboard import session_for

_ICON = re.compile(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">')


def test_every_page_links_the_icon_by_its_content(app, client):
    from webhooks.dashboard import favicon

    signin = client.get("/dashboard/signin").get_data(as_text=True)
    session_for(app, client, "sergeant")
    board = client.get("/dashboard").get_data(as_text=True)
    links = {_ICON.search(signin).group(1), _ICON.search(board).group(1)}
    digest = hashlib.sha256(favicon.PATH.read_bytes()).hexdigest()[:12]
    assert links == {f"/dashboard/favicon.svg?v={digest}"}
    assert favicon.PATH.parent.name == "dashboard" and favicon.PATH.parent.parent.name == "static"


def test_the_icon_is_an_svg_cached_for_a_year_without_a_session(client):
    resp = client.get("/dashboard/favicon.svg?v=anything")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.cache_control.max_age == 365 * 24 * 3600 and resp.cache_control.public
    assert resp.cache_control.immutable and not resp.cache_control.no_store
    assert ET.fromstring(resp.data).tag == "{http://www.w3.org/2000/svg}svg"
    again = client.get("/dashboard/favicon.svg", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304
