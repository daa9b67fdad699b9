"""The one libvirt event-loop thread.

libvirt delivers domain events, keepalive and close callbacks only while an event loop runs,
and the default implementation must be registered before the first connection is opened.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _silence_libvirt_stderr(_ctx: object, _err: object) -> None:
    # libvirt's default handler prints every error to stderr, which would scribble over the
    # TUI; errors still reach us as libvirtError exceptions with the same message.
    return None


def _run_forever() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def ensure_event_loop() -> None:
    """Register libvirt's default event implementation and start its thread, once."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        libvirt.registerErrorHandler(_silence_libvirt_stderr, None)
        libvirt.virEventRegisterDefaultImpl()
        _thread = threading.Thread(target=_run_forever, name="libvirt-events", daemon=True)
        _thread.start()

