"""`enter` in `H`: the host of a connection — libvirt's node facts, its CPU and memory use
(psutil here, libvirt's node stats for a remote host), the hardware
virtualization features, and host-wide KVM exit counters with a per-VM breakdown, like
kvm_stat's default view.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from kvmtui.keys import BACK_BINDINGS
from kvmtui.messages import HostFactsRead, HostSampled
from kvmtui.screens.replies import reply
from kvmtui.services import services
from kvmtui.virt.models import (
    Change,
    ConnectionRemoved,
    Counter,
    DomainStats,
    NodeUsage,
    StatsTick,
)
from kvmtui.virt.perf.host import (
    HostUsage,
    NodeFacts,
    VirtFeatures,
    host_usage,
    local_virt_features,
    node_facts,
    remote_virt_features,
)
from kvmtui.virt.perf.host_exits import HostExits
from kvmtui.virt.perf.stats import is_local
from kvmtui.virt.session.errors import libvirt_message
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.counters import LiveTable, exit_count_rows, time_counter_rows
from kvmtui.widgets.formatting import count, human_kib, sparkline
from kvmtui.widgets.formatting import per_second as rate_text
from kvmtui.widgets.key_footer import KeyFooter

# Per-VM breakdown columns: the reasons an operator looks at first.
VM_REASONS = ("total", "io", "mmio", "halt", "irq", "irq_window", "insn_emulation", "signal")


class HostScreen(Screen):
    BINDINGS = [*BACK_BINDINGS]

    DEFAULT_CSS = """
    HostScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    HostScreen Static.facts { height: auto; padding: 0 1; }
    HostScreen .heading { height: 1; padding: 0 1; text-style: bold; margin-top: 1; }
    HostScreen #host-exits { height: auto; max-height: 14; }
    HostScreen #host-times { height: auto; max-height: 8; }
    /* until a sample shows time counters */
    HostScreen #host-times, HostScreen #host-times-title { display: none; }
    HostScreen #vm-exits { height: auto; max-height: 12; }
    """

    def __init__(self, fleet: Fleet, uri: str) -> None:
        super().__init__()
        self.fleet = fleet
        self.uri = uri
        self.local = is_local(uri)
        self.facts: NodeFacts | None = None
        self.features: VirtFeatures | None = None
        self.usage: HostUsage | None = None
        self.cpu_history: list[float] = []
        self._exits = HostExits(self.local)
        self.host_exits: dict[str, Counter] = {}
        self.exits_source = ""

    def compose(self) -> ComposeResult:
        connection = self.fleet.connections.get(self.uri)
        host = connection.host if connection is not None else self.uri
        yield Static(f"Host {host} · {self.uri} · escape back", id="title", markup=False)
        with VerticalScroll():
            yield Static("reading node facts…", id="node", classes="facts", markup=False)
            yield Static("", id="usage", classes="facts", markup=False)
            yield Static("", id="virt", classes="facts", markup=False)
            yield Static("Host-wide KVM exits", id="host-exits-title", classes="heading",
                         markup=False)
            yield LiveTable(id="host-exits")
            yield Static("Host-wide time counters (*_ns): time, not exits; 1000 ms/s = 1 vCPU",
                         id="host-times-title", classes="heading", markup=False)
            yield LiveTable(id="host-times")
            yield Static("Per VM (rates per second)", classes="heading", markup=False)
            yield LiveTable(id="vm-exits")
        yield KeyFooter()

    def on_mount(self) -> None:
        services(self.app).sampler.node_watchers += 1  # a remote host's CPU and memory
        # the per-VM breakdown by reason of every VM of this host (the list reads totals only)
        services(self.app).sampler.watch_host_detail(self.uri)
        services(self.app).stats_feed.subscribe(self, self.apply_stats)
        services(self.app).fleet_feed.subscribe(self, self._from_fleet)
        self.query_one("#host-exits", LiveTable).focus()
        self.load_facts()
        stats = services(self.app).latest_stats(self.uri)
        if stats:
            self._show_vms(stats)

    @work(thread=True, exclusive=True, group="host-facts")
    def load_facts(self) -> None:
        try:
            with self.fleet.connections[self.uri].using() as conn:
                facts = node_facts(conn)
        except Exception as err:  # noqa: BLE001 - libvirt's words, on the screen
            reply(self, HostFactsRead(self.uri, None, None, None, libvirt_message(err)))
            return
        features = local_virt_features() if self.local else remote_virt_features(facts)
        usage = host_usage() if self.local else None
        reply(self, HostFactsRead(self.uri, facts, features, usage))

    def on_host_facts_read(self, message: HostFactsRead) -> None:
        if message.facts is None or message.features is None:
            self.query_one("#node", Static).update(f"cannot read the node: {message.error}")
            return
        self._show_facts(message.facts, message.features, message.usage)

    def _show_facts(self, facts: NodeFacts, features: VirtFeatures,
                    usage: HostUsage | None) -> None:
        self.facts, self.features = facts, features
        free = f", {human_kib(facts.free_memory_kib)} free" if facts.free_memory_kib else ""
        self.query_one("#node", Static).update(
            f"{facts.hostname} · {facts.hypervisor} · libvirt {facts.libvirt_version}\n"
            f"CPU {facts.arch} {facts.cpu_model} {facts.cpu_vendor} · {facts.cpus} CPUs: "
            f"{count(facts.numa_nodes, 'NUMA node')} × {count(facts.sockets, 'socket')} × "
            f"{count(facts.cores, 'core')} × {count(facts.threads, 'thread')} · {facts.mhz} MHz\n"
            f"Memory (libvirt) {human_kib(facts.memory_kib)}{free} · guest types: "
            f"{', '.join(facts.guest_types) or 'none'}")
        self.query_one("#virt", Static).update(virt_text(features))
        if usage is not None:
            self._show_usage(usage)

    def _show_node_usage(self, node: NodeUsage) -> None:
        """A remote host's CPU and memory, from libvirt's node stats (psutil sees only here)."""
        if node.cpu_percent is not None:
            self.cpu_history = (self.cpu_history + [node.cpu_percent])[-40:]
        cpu = "-" if node.cpu_percent is None else f"{node.cpu_percent:5.1f}%"
        memory = ("" if node.memory_total_kib is None or node.memory_used_kib is None else
                  f" · memory used {human_kib(node.memory_used_kib)} of "
                  f"{human_kib(node.memory_total_kib)}")
        self.query_one("#usage", Static).update(
            f"CPU {cpu} {sparkline(self.cpu_history, 40)}{memory} (libvirt node stats)")

    def _show_usage(self, usage: HostUsage) -> None:
        self.usage = usage
        self.cpu_history = (self.cpu_history + [usage.cpu_percent])[-40:]
        used = usage.memory_total - usage.memory_available
        cpus = " ".join(f"{p:.0f}%" for p in usage.per_cpu[:16])
        self.query_one("#usage", Static).update(
            f"CPU {usage.cpu_percent:5.1f}% {sparkline(self.cpu_history, 40)}  [{cpus}]\n"
            f"load {usage.load[0]:.2f} {usage.load[1]:.2f} {usage.load[2]:.2f} · memory used "
            f"{human_kib(used // 1024)} of {human_kib(usage.memory_total // 1024)} · swap "
            f"{human_kib(usage.swap_used // 1024)} of {human_kib(usage.swap_total // 1024)}")

    # -- live ------------------------------------------------------------------------------

    def apply_stats(self, tick: StatsTick) -> None:
        if tick.uri != self.uri or tick.error:
            return
        if not self.local and tick.node is not None:
            self._show_node_usage(tick.node)
        stats = list(tick.stats.values())
        self._show_vms(stats)
        self.sample_host(stats)

    @work(thread=True, exclusive=True, group="host-sample")
    def sample_host(self, stats: list[DomainStats]) -> None:
        usage = host_usage() if self.local else None
        exits, source = self._exits.sample(stats)
        reply(self, HostSampled(self.uri, usage, exits, source))

    def on_host_sampled(self, message: HostSampled) -> None:
        self._show_host(message.usage, message.exits, message.source)

    def _show_host(self, usage: HostUsage | None, exits: dict[str, Counter], source: str) -> None:
        if usage is not None:
            self._show_usage(usage)
        self.host_exits, self.exits_source = exits, source
        title = self.query_one("#host-exits-title", Static)
        table = self.query_one("#host-exits", LiveTable)
        width = self.app.size.width
        if exits:
            title.update(f"Host KVM exits · {source}")
            table.replace(*exit_count_rows(exits, (), width))
        else:
            title.update("Host-wide KVM exits: no VM here reports any (see x on a VM for why)")
            table.replace(["Reason", "Total", "/s", "Meaning"], [])
        # KVM's *_ns counters are nanoseconds, not events: shown as time, in a table of their own
        columns, rows = time_counter_rows(exits, width)
        times = self.query_one("#host-times", LiveTable)
        times.display = self.query_one("#host-times-title", Static).display = bool(rows)
        times.replace(columns, rows)

    def _show_vms(self, stats: list[DomainStats]) -> None:
        rows = []
        busiest = sorted((st for st in stats if st.exits),
                         key=lambda st: (-((st.exits or {})["total"].rate or 0)
                                         if "total" in (st.exits or {}) else 0, st.name))
        for st in busiest:
            exits = st.exits or {}
            cells = [st.name] + [rate_text(exits[r].rate) if r in exits else ""
                                 for r in VM_REASONS] + [st.exits_source or ""]
            rows.append((st.key.uuid, cells))
        self.query_one("#vm-exits", LiveTable).replace(
            ["VM", *(f"{r} /s" for r in VM_REASONS), "source"], rows)

    def _from_fleet(self, change: Change) -> None:
        if isinstance(change, ConnectionRemoved) and change.uri == self.uri:
            self.action_back()  # the host was removed in the hosts overview below

    def on_unmount(self) -> None:
        services(self.app).sampler.node_watchers -= 1
        services(self.app).sampler.unwatch_host_detail(self.uri)
        services(self.app).stats_feed.unsubscribe(self)
        services(self.app).fleet_feed.unsubscribe(self)

    def action_back(self) -> None:
        if self.is_current:
            self.app.pop_screen()


def virt_text(f: VirtFeatures) -> str:
    def yes(value: bool | None) -> str:
        return "unknown" if value is None else "yes" if value else "no"

    absent = "no vmx/svm in the CPU flags" if f.source == "this machine" else \
        "vmx/svm not listed"
    ext = {"vmx": "Intel VT-x (vmx)", "svm": "AMD-V (svm)"}.get(f.cpu_extension or "", absent)
    kvm = f"/dev/kvm {f.dev_kvm}" if f.source == "this machine" else f"KVM guests {f.dev_kvm}"
    lines = [f"Virtualization ({f.source}): {ext} · EPT/NPT {yes(f.second_level_paging)} · "
             f"VPID {yes(f.vpid)} · nested {f.nested or 'unknown'} · IOMMU "
             f"{'unknown' if f.iommu is None else 'on' if f.iommu else 'off'} · "
             f"{kvm}"]
    if f.kvm_modules:
        lines.append(f"KVM modules loaded: {', '.join(f.kvm_modules)}"
                     + ("" if f.cpu_extension else
                        " (no vmx/svm: KVM runs without hardware virtualization here)"))
    return "\n".join(lines)
