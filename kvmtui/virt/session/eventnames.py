"""libvirt's numeric event codes, in words a user reads (the words virsh event uses)."""

from __future__ import annotations

LIFECYCLE_EVENTS = {
    0: "defined",
    1: "undefined",
    2: "started",
    3: "suspended",
    4: "resumed",
    5: "stopped",
    6: "shutdown",
    7: "pmsuspended",
    8: "crashed",
}

LIFECYCLE_DETAILS = {
    0: ("added", "updated", "renamed", "from snapshot"),
    1: ("removed", "renamed"),
    2: ("booted", "migrated", "restored", "from snapshot", "wakeup", "recreated"),
    3: ("paused", "migrated", "I/O error", "watchdog", "restored", "from snapshot",
        "API error", "postcopy", "postcopy failed"),
    4: ("unpaused", "migrated", "from snapshot", "postcopy", "postcopy failed"),
    5: ("shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot",
        "recreated"),
    6: ("finished", "on guest request", "on host request"),
    7: ("memory", "disk"),
    8: ("panicked", "crashloaded"),
}

# The state a lifecycle event leaves the domain in (virDomainState), when the event alone says.
# 'defined', 'undefined' and 'shutdown' (the guest began or finished shutting down; 'stopped'
# follows) say nothing certain about the run state.
LIFECYCLE_STATES = {
    2: 1,  # started -> running
    3: 3,  # suspended -> paused
    4: 1,  # resumed -> running
    5: 5,  # stopped -> shut off
    7: 7,  # pmsuspended
    8: 6,  # crashed
}

AGENT_STATES = {1: "connected", 2: "disconnected"}

CLOSE_REASONS = {
    0: "connection error",
    1: "end of file from libvirtd",
    2: "keepalive timeout",
    3: "closed by client",
}


def leaves_managed_save(event: int, detail: int, before: bool) -> bool:
    """Whether a managed-save image exists after the event: 'stopped: saved' makes one,
    'started: restored' consumes it."""
    if event == 5 and detail == 4:
        return True
    if event == 2 and detail == 2:
        return False
    return before


def lifecycle_words(event: int, detail: int) -> str:
    name = LIFECYCLE_EVENTS.get(event, f"event {event}")
    details = LIFECYCLE_DETAILS.get(event, ())
    if 0 <= detail < len(details):
        return f"{name}: {details[detail]}"
    return name
