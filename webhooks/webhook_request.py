"""Flask's request, with a quicker reading of Twilio's form bodies.

Every phone webhook is an `application/x-www-form-urlencoded` POST of ~15 short ASCII
fields, and its signature check reads all of them. werkzeug reaches them through a
guarded stream, a parser object and `parse_qsl`: ~100 µs of the ~390 µs an incoming call
costs in-process. The same fields, the same decoding (UTF-8, `+` as a space, bad escapes
kept as werkzeug keeps them) and the same size limit, read directly from the body, cost a
fifth of that. Anything else — another content type, no Content-Length, a body that is not
ASCII — takes werkzeug's own path unchanged.
"""

from __future__ import annotations

from io import BytesIO
from urllib.parse import unquote

import werkzeug.formparser  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler)
from flask import Request
from werkzeug.exceptions import ClientDisconnected

FORM_TYPE = "application/x-www-form-urlencoded"


def parse_urlencoded(body: str) -> list[tuple[str, str]]:
    """`parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote")`, faster for
    the common case of fields that need no unescaping."""
    items = []
    for field in body.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, errors="werkzeug.url_quote")
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, errors="werkzeug.url_quote")
        items.append((name, value))
    return items


class WebhookRequest(Request):
    """Reads a short urlencoded body straight from `wsgi.input`; everything else as Flask does."""

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        length = self.content_length
        limit = self.max_content_length
        if (
            self.mimetype != FORM_TYPE
            or length is None
            or (limit is not None and length > limit)
            or "stream" in self.__dict__
            or getattr(self, "_cached_data", None) is not None
        ):
            super()._load_form_data()
            return
        data = self.environ["wsgi.input"].read(length) if length else b""
        if len(data) < length:
            raise ClientDisconnected()
        if not data.isascii():  # raw non-ASCII: werkzeug's decoding rules, from the bytes we read
            self.environ["wsgi.input"] = BytesIO(data)
            super()._load_form_data()
            return
        d = self.__dict__
        d["stream"] = BytesIO()
        d["form"] = self.parameter_storage_class(parse_urlencoded(data.decode("ascii")))
        d["files"] = self.parameter_storage_class()
