"""Values the pure tests build by hand, with what a test does not care about filled in."""

from __future__ import annotations

from kvmtui.virt.models import DomainKey, DomainState, DomainSummary


def summary(name: str, state: DomainState, **kw) -> DomainSummary:
    """A domain on test:///x whose UUID is its name: 2 vCPUs, 1 MiB, persistent."""
    base = dict(key=DomainKey("test:///x", name), name=name, id=1, state=state, vcpus=2,
                memory_kib=1024, max_memory_kib=1024, autostart=False, persistent=True,
                managed_save=False, host="x")
    base.update(kw)
    return DomainSummary(**base)
