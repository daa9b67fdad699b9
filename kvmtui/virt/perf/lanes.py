"""One sampling thread per connection, so a slow or hung host cannot stretch another's tick.

The sampler's clock kicks every lane once per interval. A lane still busy with its last tick
skips the kick: a slow host ticks at the pace it can, and its ticks are never queued.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Lane:
    """Runs `work` on its own thread each time it is kicked, one run at a time."""

    def __init__(self, name: str, uri: str, work: Callable[[], None]) -> None:
        self.uri = uri
        self._work = work
        self._go = threading.Event()
        self._stopped = False
        self.busy = False
        self._again = False  # a kick with soon=True came while busy
        self._kicking = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def kick(self, *, soon: bool = False) -> bool:
        """Start a run; False (and nothing started) while the last one is still running.

        soon: while one runs, run once more right after it (an early sample someone waits
        for, StatsSampler.watch_detail) instead of skipping."""
        with self._kicking:  # the clock's thread and, for an early sample, the UI's
            if self.busy:
                self._again = self._again or soon
                return False
            self.busy = True
        self._go.set()
        return True

    def stop(self) -> None:
        self._stopped = True
        self._go.set()

    def _run(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            if self._stopped:
                return
            try:
                self._work()
            except Exception:  # noqa: BLE001 - the next kick may succeed; this thread must live
                pass
            finally:
                with self._kicking:
                    again, self._again = self._again, False
                    self.busy = again
                if again:
                    self._go.set()
