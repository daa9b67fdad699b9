"""A connection's state in words, as the header, the hosts overview and the log say it.

The state carries monotonic times (models.ConnectionChanged), so the words are worked out
against `now`: "connecting 12 s", "refused · retrying in 4 s".
"""

from __future__ import annotations

import math

from kvmtui.virt.models import ConnectionChanged, ConnectionStatus

# A connect that has waited this long is most likely a host that accepted and never answered.
NO_ANSWER_S = 10.0


def waited(state: ConnectionChanged, now: float) -> int:
    return max(0, int(now - state.since))


def retry_words(state: ConnectionChanged, now: float) -> str:
    if state.retry_at is None:
        return ""
    seconds = math.ceil(state.retry_at - now)
    verb = "reconnecting" if state.status is ConnectionStatus.DISCONNECTED else "retrying"
    return f"{verb} in {seconds} s" if seconds > 0 else f"{verb} now"


def state_words(state: ConnectionChanged, now: float, *, reason: bool = True) -> str:
    """'connected', 'connecting 12 s (no answer yet)', 'refused: <libvirt's words> · retrying
    in 4 s', 'lost: keepalive timeout · reconnecting in 1 s'. reason=False leaves libvirt's
    words out (a short cell); they are always in the long form."""
    status = state.status
    if status is ConnectionStatus.CONNECTED:
        return "connected"
    if status is ConnectionStatus.CONNECTING:
        seconds = waited(state, now)
        late = " (no answer yet)" if seconds >= NO_ANSWER_S else ""
        return f"connecting {seconds} s{late}"
    word = "lost" if status is ConnectionStatus.DISCONNECTED else status.value
    text = f"{word}: {state.reason}" if reason and state.reason else word
    retry = retry_words(state, now)
    return f"{text} · {retry}" if retry else text
