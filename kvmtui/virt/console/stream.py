"""A non-blocking libvirt stream to a VM's console, driven by kvmtui's libvirt event loop.

No thread of its own and no `virsh` subprocess: libvirt calls `_on_event` on its event-loop
thread when the stream is readable (or writable, while typed keys wait to go out). Output is
gathered in a buffer, and the UI is told only when the buffer goes from empty to not empty —
one wake-up however fast the guest prints; the UI takes everything gathered at once
(`take()`), so a guest printing megabytes costs one message per frame, not one per read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import libvirt

from kvmtui.virt.session.eventloop import ensure_event_loop

READ_CHUNK = 64 * 1024
# What is kept when the UI falls behind a guest that prints without end: the newest output
# (a terminal shows the end of it anyway), never an ever-growing buffer.
MAX_PENDING = 8 * 1024 * 1024

_WATCH = (libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR
          | libvirt.VIR_STREAM_EVENT_HANGUP)


class ConsoleStream:
    """One attachment to one console device. `on_ready()` and `on_end(reason)` are called on
    libvirt's event thread: they must only post a message."""

    def __init__(self, dom: libvirt.virDomain, device: str | None, *,
                 on_ready: Callable[[], object], on_end: Callable[[str], object]) -> None:
        self.dom = dom
        self.device = device
        self._on_ready = on_ready
        self._on_end = on_end
        self._lock = threading.Lock()
        self._stream: libvirt.virStream | None = None
        self._pending = bytearray()   # output not yet taken by the UI
        self._outgoing = bytearray()  # typed keys the stream could not take yet
        self._ended = False
        self.dropped = 0  # bytes of output dropped because the UI fell MAX_PENDING behind

    def open(self, *, force: bool = False) -> None:
        """Attach; raises libvirt.libvirtError (not running, in use, read-only, unsupported)."""
        ensure_event_loop()
        stream = self.dom.connect().newStream(libvirt.VIR_STREAM_NONBLOCK)
        try:
            self.dom.openConsole(self.device, stream,
                                 libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else 0)
            stream.eventAddCallback(_WATCH, self._on_event, None)
        except libvirt.libvirtError:
            _abort(stream)
            raise
        self._stream = stream

    # -- the UI side ------------------------------------------------------------------------

    def take(self) -> bytes:
        """Everything the guest printed since the last take."""
        with self._lock:
            data = bytes(self._pending)
            self._pending.clear()
        return data

    def send(self, data: bytes) -> None:
        """Type into the console; what the stream cannot take now goes when it is writable."""
        with self._lock:
            if self._stream is None or self._ended:
                return
            self._outgoing += data
            self._flush()

    def close(self) -> None:
        """Detach (the console is free for another client again)."""
        with self._lock:
            stream, self._stream = self._stream, None
            self._ended = True
        if stream is not None:
            try:
                stream.eventRemoveCallback()
            except libvirt.libvirtError:
                pass
            _abort(stream)

    @property
    def ended(self) -> bool:
        return self._ended

    # -- libvirt's event thread -------------------------------------------------------------

    def _on_event(self, stream: libvirt.virStream, events: int, _opaque: object) -> None:
        reason = None
        with self._lock:
            if self._stream is None or self._ended:
                return
            woke = not self._pending
            got = False
            try:
                if events & libvirt.VIR_STREAM_EVENT_READABLE:
                    got, reason = self._read(stream)
                if events & libvirt.VIR_STREAM_EVENT_WRITABLE:
                    self._flush()
            except libvirt.libvirtError as err:
                reason = err.get_error_message() or str(err)
            if reason is None and events & (libvirt.VIR_STREAM_EVENT_ERROR
                                            | libvirt.VIR_STREAM_EVENT_HANGUP):
                reason = "the console was closed"
            if reason is not None:
                self._ended = True
        if got and woke:
            self._on_ready()
        if reason is not None:
            self._on_end(reason)

    def _read(self, stream: libvirt.virStream) -> tuple[bool, str | None]:
        got = False
        while True:
            data = stream.recv(READ_CHUNK)
            if data == -2:  # nothing more for now
                return got, None
            if not data:  # end of stream: the VM stopped, or another client took over
                return got, "the console was closed"
            self._pending += data
            got = True
            if len(self._pending) > MAX_PENDING:
                cut = len(self._pending) - MAX_PENDING
                del self._pending[:cut]
                self.dropped += cut

    def _flush(self) -> None:
        """Send what waits (the lock is held); watch for writability while anything is left."""
        stream = self._stream
        if stream is None:
            return
        while self._outgoing:
            sent = stream.send(bytes(self._outgoing))
            if sent == -2 or sent == 0:
                break
            del self._outgoing[:sent]
        events = _WATCH | (libvirt.VIR_STREAM_EVENT_WRITABLE if self._outgoing else 0)
        stream.eventUpdateCallback(events)


def _abort(stream: libvirt.virStream) -> None:
    try:
        stream.abort()
    except libvirt.libvirtError:
        pass
