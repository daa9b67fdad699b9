"""Edits of the config file: a host added or removed, the list's columns saved.

Each edit changes the text rather than re-writing it, so the user's comments and layout survive;
it is parsed before it is written and read back after, and a file that would not read as
intended is left as it was.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from contextlib import suppress
from pathlib import Path

from kvmtui.virt.columns import checked_columns
from kvmtui.virt.session.config import (
    Config,
    ConfigError,
    HostEntry,
    _inline_hosts,
    _Locator,
    _os_words,
    _parse,
    _read,
    load_config,
)


def append_host(path: Path, entry: HostEntry) -> None:
    """Add a [[hosts]] block at the end of the file, creating the file if need be."""
    old_text = _read(path)
    old = _parse(path, old_text or "")
    if _inline_hosts(old_text or ""):
        raise ConfigError(path, "cannot add it: hosts is not written as [[hosts]] tables; "
                                "edit the file by hand")
    newline = "\r\n" if "\r\n" in (old_text or "") else "\n"
    block = newline.join(["[[hosts]]", f"name = {_toml_string(entry.name)}",
                          f"uri = {_toml_string(entry.uri)}",
                          f"readonly = {'true' if entry.readonly else 'false'}", ""])
    kept = (old_text or "").rstrip()
    new_text = kept + newline * 2 + block if kept else block
    expected = _replace(old, hosts=(*old.hosts, entry))
    _commit(path, old_text, new_text, expected, "cannot add it")


def save_columns(path: Path, columns: tuple[str, ...]) -> None:
    """Set `columns = [...]`: the line that sets it is replaced, else one is put before the
    first table (a top-level key after a [[hosts]] header would belong to that host)."""
    old_text = _read(path)
    old = _parse(path, old_text or "")
    columns = checked_columns(list(columns))
    newline = "\r\n" if "\r\n" in (old_text or "") else "\n"
    setting = "columns = [" + ", ".join(_toml_string(c) for c in columns) + "]"
    lines = (old_text or "").splitlines(keepends=True)
    at = _Locator(old_text or "").top("columns")
    if at is not None:
        if not lines[at - 1].rstrip().endswith("]"):
            raise ConfigError(path, "cannot save the columns: columns spans several lines; "
                                    "edit the file by hand", at)
        lines[at - 1] = setting + newline
    else:
        locator = _Locator(old_text or "")
        first_table = next((n for n, line in enumerate(lines) if locator.is_header(line)),
                           len(lines))
        block = [setting + newline] + ([newline] if first_table < len(lines) else [])
        if first_table == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines[first_table:first_table] = block
    expected = Config(old.path, old.refresh, old.shutdown_timeout, old.hosts, exists=True,
                      columns=columns)
    _commit(path, old_text, "".join(lines), expected, "cannot save the columns")


def remove_host(path: Path, uri: str) -> bool:
    """Take out the [[hosts]] block whose uri is `uri`; False when the file has none."""
    text = _read(path)
    if text is None:
        return False
    old = _parse(path, text)
    index = next((i for i, host in enumerate(old.hosts) if host.uri == uri), None)
    if index is None:
        return False
    lines = text.splitlines(keepends=True)
    span = None if _inline_hosts(text) else _host_block(lines, index)
    if span is None:
        raise ConfigError(path, "cannot remove it: hosts is not written as [[hosts]] tables; "
                                "edit the file by hand")
    start, end = span
    new_text = "".join(lines[:start] + lines[end:])
    if start == 0:  # the block opened the file: do not leave it starting with blank lines
        new_text = new_text.lstrip("\r\n")
    expected = _replace(old, hosts=old.hosts[:index] + old.hosts[index + 1:])
    _commit(path, text, new_text, expected, "cannot remove it")
    return True


# -- writing ---------------------------------------------------------------------------------

def _toml_string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also wants DEL escaped,
    and non-ASCII is kept literal: JSON would write astral characters as surrogate pairs,
    which TOML refuses."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _replace(config: Config, *, hosts: tuple[HostEntry, ...]) -> Config:
    return Config(config.path, config.refresh, config.shutdown_timeout, hosts, exists=True,
                  columns=config.columns)


def _host_block(lines: list[str], index: int) -> tuple[int, int] | None:
    """The lines [start, end) that hold hosts[index]: its header and keys, the comments just
    above the header, and the blank lines that set it apart from what came before. Comments
    right above the next header are that header's, and stay."""
    locator = _Locator("".join(lines))
    headers = locator.hosts_headers()
    if index >= len(headers):
        return None
    start = headers[index]
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    while start > 0 and not lines[start - 1].strip():
        start -= 1
    end = next((n for n in range(headers[index] + 1, len(lines)) if locator.is_header(lines[n])),
               len(lines))
    if end < len(lines):  # keep the next block's comments and the blank lines before them
        while end > headers[index] + 1 and lines[end - 1].lstrip().startswith("#"):
            end -= 1
        while end > headers[index] + 1 and not lines[end - 1].strip():
            end -= 1
    return start, end


def _commit(path: Path, old_text: str | None, new_text: str, expected: Config,
            failure: str) -> None:
    """Write new_text if it reads as `expected`, then read it back; if that differs, put the
    old text back. Either way a failure leaves the file as it was."""
    try:
        planned = _parse(path, new_text)
    except ConfigError as err:
        raise ConfigError(path, f"{failure}: {err.what}") from None
    if planned != expected:
        raise ConfigError(path, f"{failure}: the file would read differently after the edit; "
                                "edit it by hand")
    _write(path, new_text, failure)
    try:
        written = load_config(path)
    except ConfigError:
        written = None
    if written != expected:
        _restore(path, old_text, failure)
        raise ConfigError(path, f"{failure}: the file read back differently (changed by "
                                "something else?); it is left as it was")


def _restore(path: Path, old_text: str | None, failure: str) -> None:
    if old_text is not None:
        _write(path, old_text, failure)
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as err:
        raise ConfigError(path, f"{failure}: {_os_words(err)}") from None


def _write(path: Path, text: str, failure: str) -> None:
    """Replace the file in one step, so a crash leaves the old file or the new one. A symlinked
    config (dotfile managers) is written through, not replaced by a plain file."""
    target = Path(os.path.realpath(path))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(path, f"{failure}: the text is not valid Unicode") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o600  # it may come to hold user names and host names: the user's alone
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temp, mode)
            os.replace(temp, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as err:
        raise ConfigError(path, f"{failure}: {_os_words(err)}") from None
