"""The config file, $XDG_CONFIG_HOME/kvmtui/config.toml: defaults for the command-line
options, the list's columns and the hosts to connect to.

Every complaint is one line naming the file and, where it can, the line: tomllib keeps no
positions for values, so a small locator finds them in the text. Edits (a host added or
removed, the columns saved) are in config_edit.py.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kvmtui.virt.columns import checked_columns
from kvmtui.virt.session.uris import host_label

# The same bounds as MIN_INTERVAL_S/MAX_INTERVAL_S in kvmtui/virt/perf/stats.py: they are
# repeated because virt.session must not import virt.perf.
REFRESH_RANGE_S = (0.2, 3600.0)
SHUTDOWN_TIMEOUT_RANGE_S = (1.0, 86400.0)

_SETTINGS = ("refresh", "shutdown_timeout", "columns", "hosts")
_HOST_KEYS = ("name", "uri", "readonly")
_RANGES = {"refresh": REFRESH_RANGE_S, "shutdown_timeout": SHUTDOWN_TIMEOUT_RANGE_S}
_URI_EXAMPLE = "qemu+ssh://root@kvm1/system"


@dataclass(frozen=True, slots=True)
class HostEntry:
    name: str
    uri: str
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    """What the file says; None and () mean the file does not set it."""

    path: Path
    refresh: float | None = None
    shutdown_timeout: float | None = None
    hosts: tuple[HostEntry, ...] = ()
    exists: bool = False
    columns: tuple[str, ...] | None = None  # the list's columns in their order (virt/columns.py)


class ConfigError(Exception):
    """One printable line: 'kvmtui: /abs/config.toml, line 7: what is wrong'."""

    def __init__(self, path: Path, what: str, line: int | None = None,
                 column: int | None = None) -> None:
        where = os.path.abspath(path)
        if line is not None:
            where += f", line {line}"
            if column is not None:
                where += f", column {column}"
        # a path or a key may hold a newline; the message must still print as one line
        super().__init__(" ".join(f"kvmtui: {where}: {what}".splitlines()))
        self.what = what
        self.line = line


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CONFIG_HOME/kvmtui/config.toml, else ~/.config/kvmtui/config.toml."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec says a relative one is to be ignored
        base = Path(xdg)
    else:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "kvmtui" / "config.toml"


def load_config(path: Path, *, required: bool = False) -> Config:
    """The file's settings; a missing file is an empty Config unless the user named it."""
    text = _read(path)
    if text is None:
        if required:
            raise ConfigError(path, "no such file")
        return Config(path)
    return _parse(path, text)


# -- reading ---------------------------------------------------------------------------------

def _read(path: Path) -> str | None:
    """The file's text, or None when there is no file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(path, f"cannot read it: {_os_words(err)}") from None
    try:
        return data.decode("utf-8-sig")  # an editor's byte-order mark is not an error
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ConfigError(path, f"not UTF-8 text (byte 0x{data[err.start]:02x})", line) from None


def _parse(path: Path, text: str) -> Config:
    import tomllib  # here: with no config file (the usual start) it is not needed
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _syntax_error(path, str(err)) from None
    return _Reader(path, text).config(data)


def _syntax_error(path: Path, message: str) -> ConfigError:
    """tomllib's 'Invalid value (at line 3, column 11)' as '..., line 3, column 11: invalid value'."""
    found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if found:
        return ConfigError(path, _lower_first(found[1]), int(found[2]), int(found[3]))
    found = re.fullmatch(r"(.*) \(at end of document\)", message, re.DOTALL)
    if found:
        return ConfigError(path, f"{_lower_first(found[1])} at the end of the file")
    return ConfigError(path, _lower_first(message))


class _Reader:
    """Turns parsed TOML into a Config; every complaint names the line it is about."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _Locator(text)

    def fail(self, what: str, line: int | None) -> ConfigError:
        return ConfigError(self.path, what, line)

    def config(self, data: dict[str, Any]) -> Config:
        for key in data:
            if key not in _SETTINGS:
                raise self.fail(f"unknown setting {key!r} (known: {', '.join(_SETTINGS)})",
                                self.lines.top(key))
        return Config(self.path, refresh=self.seconds(data, "refresh"),
                      shutdown_timeout=self.seconds(data, "shutdown_timeout"),
                      hosts=self.hosts(data.get("hosts", [])), exists=True,
                      columns=self.columns(data))

    def columns(self, data: dict[str, Any]) -> tuple[str, ...] | None:
        if "columns" not in data:
            return None
        value, line = data["columns"], self.lines.top("columns")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"columns must be a list of column names, not {_kind(value)} "
                            '(e.g. columns = ["id", "name", "state", "cpu"])', line)
        try:
            return checked_columns(value)
        except ValueError as err:
            raise self.fail(f"columns: {err}", line) from None

    def seconds(self, data: dict[str, Any], key: str) -> float | None:
        if key not in data:
            return None
        value, (low, high) = data[key], _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{key} must be a number of seconds, not {_kind(value)}",
                            self.lines.top(key))
        # nan compares false both ways, so it is out of range too
        if not (math.isfinite(value) and low <= value <= high):
            raise self.fail(f"{key} = {value!r} is out of range: give {low:g} to {high:g} seconds",
                            self.lines.top(key))
        return float(value)

    def hosts(self, value: Any) -> tuple[HostEntry, ...]:
        if not isinstance(value, list):
            raise self.fail(f"hosts must be [[hosts]] tables, not {_kind(value)}",
                            self.lines.top("hosts"))
        entries: list[HostEntry] = []
        for index, item in enumerate(value):
            entry = self.host(index, item)
            self.check_unique(index, entry, entries, defaulted="name" not in item)
            entries.append(entry)
        return tuple(entries)

    def host(self, index: int, item: Any) -> HostEntry:
        label = f"host {index + 1}"
        if not isinstance(item, dict):
            raise self.fail(f"{label} must be a table, not {_kind(item)}", self.lines.top("hosts"))
        for key in item:
            if key not in _HOST_KEYS:
                raise self.fail(f"{label}: unknown key {key!r} (known: {', '.join(_HOST_KEYS)})",
                                self.lines.host(index, key))
        if "uri" not in item:
            raise self.fail(f"{label} has no uri", self.lines.host(index, None))
        uri, line = item["uri"], self.lines.host(index, "uri")
        if not isinstance(uri, str):
            raise self.fail(f"{label}: uri must be a string, not {_kind(uri)}", line)
        if not _is_uri(uri):
            raise self.fail(f"{label}: uri {uri!r} is not a libvirt URI (e.g. {_example(uri)})",
                            line)
        name, line = item.get("name", host_label(uri)), self.lines.host(index, "name")
        if not isinstance(name, str):
            raise self.fail(f"{label}: name must be a string, not {_kind(name)}", line)
        if not name.strip():
            raise self.fail(f"{label}: name is empty (leave it out to get {host_label(uri)!r})",
                            line)
        readonly = item.get("readonly", False)
        if not isinstance(readonly, bool):
            raise self.fail(f"{label}: readonly must be true or false, not {_kind(readonly)}",
                            self.lines.host(index, "readonly"))
        return HostEntry(name, uri, readonly)

    def check_unique(self, index: int, entry: HostEntry, earlier: list[HostEntry], *,
                     defaulted: bool) -> None:
        label = f"host {index + 1}"
        for number, other in enumerate(earlier, 1):
            if other.uri == entry.uri:
                raise self.fail(f"{label}: uri {entry.uri!r} is already host {number}'s",
                                self.lines.host(index, "uri"))
            if other.name == entry.name:
                # a name taken from the URI was never typed: say where it came from
                hint = " (from its uri; give it a name)" if defaulted else ""
                raise self.fail(f"{label}: name {entry.name!r}{hint} is already host {number}'s",
                                self.lines.host(index, "name"))


class _Locator:
    """Line numbers (1-based) of settings in the text, found by pattern: tomllib has none."""

    _HEADER = re.compile(r"\s*\[\[?\s*[\w\"'-][^\]]*\]\]?\s*(#.*)?")
    _HOSTS_HEADER = re.compile(r"\s*\[\[\s*(hosts|\"hosts\"|'hosts')\s*\]\]\s*(#.*)?")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def top(self, key: str) -> int | None:
        """A top-level key's line: `key =` before the first table, else a `[key]` header."""
        assigned = _key_pattern(key)
        for number, line in enumerate(self.lines, 1):
            if self._HEADER.fullmatch(line):
                break
            if assigned.match(line):
                return number
        opened = re.compile(rf"\s*\[\[?\s*{_quoted(key)}\s*[\].]")
        return next((n for n, line in enumerate(self.lines, 1) if opened.match(line)), None)

    def host(self, index: int, key: str | None) -> int | None:
        """hosts[index]'s key in its [[hosts]] block, else the block's header line."""
        headers = self.hosts_headers()
        if index >= len(headers):  # hosts = [{...}] inline: its line is all there is
            return self.top("hosts")
        start = headers[index]
        if key is not None:
            assigned = _key_pattern(key)
            for number in range(start + 1, len(self.lines)):
                if self._HEADER.fullmatch(self.lines[number]):
                    break
                if assigned.match(self.lines[number]):
                    return number + 1
        return start + 1

    def is_header(self, line: str) -> bool:
        return bool(self._HEADER.fullmatch(line.rstrip("\r\n")))

    def hosts_headers(self) -> list[int]:
        return [n for n, line in enumerate(self.lines) if self._HOSTS_HEADER.fullmatch(line)]


def _quoted(key: str) -> str:
    """A key as TOML may spell it: bare, or in either kind of quotes."""
    bare = re.escape(key)
    return rf"(?:{bare}|\"{bare}\"|'{bare}')"


def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"\s*{_quoted(key)}\s*[=.]")


def _inline_hosts(text: str) -> bool:
    """Whether hosts is written `hosts = [...]`, which a block edit cannot touch."""
    locator = _Locator(text)
    return not locator.hosts_headers() and locator.top("hosts") is not None


def _is_uri(uri: str) -> bool:
    # libvirt does not trim, so a stray space would only fail later and less clearly
    if not uri or uri != uri.strip():
        return False
    try:
        return bool(urlsplit(uri).scheme)
    except ValueError:  # e.g. an unclosed '[' around an IPv6 address
        return False


def _example(uri: str) -> str:
    """A bare host name most likely meant ssh to it; anything else gets the stock example."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", uri):
        return f"qemu+ssh://root@{uri}/system"
    return _URI_EXAMPLE


def _kind(value: object) -> str:
    """A TOML value's kind in words, for 'must be X, not a string'."""
    kinds = [(bool, "true/false"), (int, "an integer"), (float, "a float"), (str, "a string"),
             (list, "an array"), (dict, "a table")]
    return next((word for kind, word in kinds if isinstance(value, kind)), "a date or time")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _os_words(err: OSError) -> str:
    return err.strerror or str(err)
