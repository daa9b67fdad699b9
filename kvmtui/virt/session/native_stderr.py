"""Keep libvirt's and libxml2's own C-level warnings off the user's terminal."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Keep libvirt's and libxml2's own C-level warnings off the user's terminal.

    They duplicate what the libvirtError we report already says ("I/O warning: failed to load
    external entity ..."), and would break the promise of a single clear line.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    sink = os.open(os.devnull, os.O_WRONLY)  # nobody reads them back
    try:
        os.dup2(sink, 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
    finally:
        os.close(sink)
        os.close(saved)
