"""The one error a bad configuration raises, shaped for the operator who must fix it.

When the service refuses to start, the message is all the operator sees, so it names
the file, the line and the dotted key (``liaisons[2].phone``) and says what is wrong,
like a compiler: ``roster.yaml:41: liaisons[2].phone: '+1 646-555' is too short``.
"""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem found at start; ``str(e)`` is ``path:line: key: reason``.

    Missing parts are left out: ``environment: LIAISON_WINDOW: must be greater than 0``,
    ``roster.yaml: file not found``.
    """

    def __init__(self, path: str, line: int | None = None, key: str | None = None, reason: str = "") -> None:
        self.path = str(path)
        self.line = line
        self.key = key
        self.reason = reason
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [where]
        if self.key:
            parts.append(self.key)
        if self.reason:
            parts.append(self.reason)
        return ": ".join(parts)

    def __reduce__(self):  # keep it picklable (RQ workers, multiprocessing) despite keyword arguments
        return (type(self), (self.path, self.line, self.key, self.reason))


__all__ = ["ConfigError"]
