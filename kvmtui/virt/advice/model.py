"""What the advice engine reads and what it says: Inputs in, Findings out (pure dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from kvmtui.virt.domain.details import DomainDetails
from kvmtui.virt.models import DomainState, DomainStats
from kvmtui.virt.perf.host import NodeFacts, VirtFeatures

INFO, WARNING, PROBLEM = "info", "warning", "problem"
SEVERITIES = (PROBLEM, WARNING, INFO)   # the order findings are shown in: worst first


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of advice: what was seen (evidence: real values and XML, one line each), and
    what to change (fix: an XML snippet or a host command, and why it helps)."""

    id: str
    severity: str               # "info", "warning" or "problem"
    title: str
    evidence: tuple[str, ...]
    fix: str

    def as_json(self) -> dict:
        return {"id": self.id, "severity": self.severity, "title": self.title,
                "evidence": list(self.evidence), "fix": self.fix}


@dataclass(frozen=True, slots=True)
class GuestHints:
    """What the advice needs from the XML that DomainDetails does not model."""

    os_id: str | None = None          # libosinfo's <os id=...> as virt-install writes it
    clock_offset: str | None = None   # <clock offset='localtime'>: how Windows keeps its RTC
    numatune: str | None = None       # <numatune><memory .../>, as written, when present


@dataclass(frozen=True, slots=True)
class HostFacts:
    """The host a VM runs on. Each part is None when it could not be read (a remote host's
    /proc, a driver without node info): the rules that need it stay silent."""

    node: NodeFacts | None = None
    virt: VirtFeatures | None = None
    running_vms: int | None = None    # on this connection, this VM included when it runs
    running_vcpus: int | None = None  # their vCPUs, summed


@dataclass(frozen=True, slots=True)
class Limits:
    """The rate rules' thresholds, per second on the busiest vCPU (steal: percent)."""

    # An exit to QEMU for port or memory-mapped I/O costs some 5-20 µs (exit, QEMU's
    # emulation, entry). At 5,000 a second one vCPU spends several percent of its time there,
    # at 50,000 half of it: beyond a timer or a doorbell, a device emulated register by
    # register.
    io_exits_warning: float = 5_000.0
    io_exits_problem: float = 50_000.0
    # Page faults KVM takes on its second-level page tables (EPT violations: pf_taken, or
    # pf_fixed on older kernels), each mapping 4 KiB: 2,000 a second is 8 MB/s faulted in;
    # a 2 MiB huge page needs one fault where 4 KiB pages need 512.
    ept_faults_warning: float = 2_000.0
    # Steal: a runnable vCPU waiting for a host CPU (vcpu.N.delay). A few percent is normal
    # scheduling; at 10% the guest loses a tenth of its time, at 30% it stalls visibly.
    steal_warning: float = 10.0
    steal_problem: float = 30.0


@dataclass(frozen=True, slots=True)
class Inputs:
    domain: DomainDetails
    stats: DomainStats | None = None  # one tick with rates; None: not sampled (not running)
    host: HostFacts | None = None
    hints: GuestHints = field(default_factory=GuestHints)
    state: DomainState | None = None  # None: take the state from stats
    limits: Limits = Limits()

    @property
    def running(self) -> bool:
        state = self.state if self.state is not None else (
            self.stats.state if self.stats is not None else None)
        return state in (DomainState.RUNNING, DomainState.BLOCKED)


_LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"


def read_hints(xml: str | ET.Element) -> GuestHints:
    """The libosinfo OS id, the clock's offset and <numatune>, from a domain's XML."""
    root = ET.fromstring(xml) if isinstance(xml, str) else xml
    os_el = root.find(f"metadata/{{{_LIBOSINFO_NS}}}libosinfo/{{{_LIBOSINFO_NS}}}os")
    clock = root.find("clock")
    memory = root.find("numatune/memory")
    numatune = None
    if memory is not None:
        numatune = "<memory " + " ".join(f"{k}='{v}'" for k, v in memory.attrib.items()) + "/>"
    elif root.find("numatune") is not None:
        numatune = "<numatune>"
    return GuestHints(
        os_id=os_el.get("id") if os_el is not None else None,
        clock_offset=clock.get("offset") if clock is not None else None,
        numatune=numatune)


def count(value: float) -> str:
    """12400.4 -> '12,400': figures as the evidence quotes them."""
    return f"{value:,.0f}"


def inputs_from_xml(xml: str, stats: DomainStats | None = None, host: HostFacts | None = None,
                    state: DomainState | None = None) -> Inputs:
    """Inputs from a domain's XML (as virDomainGetXMLDesc returns it) and what else is known."""
    from kvmtui.virt.domain.domxml import parse_domain

    root = ET.fromstring(xml)
    return Inputs(parse_domain(root), stats, host, read_hints(root), state)
