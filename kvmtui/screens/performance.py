"""`x` on a VM: its CPU per vCPU, its QEMU process, and KVM's VM-exit counters by reason, live.

Figures come from the app's sampler (one bulk libvirt call per tick for the whole fleet); this
screen adds only what is about this one VM: the QEMU process through psutil (local domains),
and — once — a sharper reason when a remote domain has no exit counters.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from kvmtui.keys import BACK_BINDINGS
from kvmtui.messages import ExitsExplained, ProcessSampled
from kvmtui.screens.replies import reply
from kvmtui.screens.vm_screen import VmScreen
from kvmtui.services import services
from kvmtui.virt.models import (
    Counter,
    DomainStats,
    DomainSummary,
    StatsTick,
)
from kvmtui.virt.perf.figures import FleetFigures
from kvmtui.virt.perf.qemuproc import QemuProcessWatch
from kvmtui.virt.perf.rates import ordered
from kvmtui.virt.perf.stats import explain_missing_exits, is_local
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.counters import LiveTable, exit_count_rows, time_counter_rows, vcpu_rows
from kvmtui.widgets.formatting import (
    bytes_per_second,
    count,
    fit_parts,
    human_kib,
    pack_parts,
    percent,
    sparkline,
)
from kvmtui.widgets.key_footer import KeyFooter


class PerformanceScreen(VmScreen):
    BINDINGS = [*BACK_BINDINGS]
    kind = "performance"

    DEFAULT_CSS = """
    PerformanceScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    PerformanceScreen #summary { height: auto; padding: 0 1; }
    PerformanceScreen #qemu { height: auto; padding: 0 1; color: $text-muted; }
    PerformanceScreen #vcpus { height: auto; max-height: 7; }
    PerformanceScreen #exits-title { height: auto; padding: 0 1; text-style: bold; }
    PerformanceScreen #no-exits { height: auto; padding: 0 1; color: $text-warning; }
    PerformanceScreen #exits { height: 1fr; }
    PerformanceScreen #times-title { height: auto; padding: 0 1; text-style: bold; }
    PerformanceScreen #times { height: auto; max-height: 5; }
    """

    def __init__(self, fleet: Fleet, summary: DomainSummary,
                 stats: DomainStats | None = None) -> None:
        super().__init__(fleet, summary)
        self.stats = stats
        self.local = is_local(summary.key.uri)
        self._watch: QemuProcessWatch | None = None
        self._explained: dict[str, str | None] = {}

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="title", markup=False)
        with Vertical():
            yield Static("waiting for the first sample…", id="summary", markup=False)
            yield LiveTable(id="vcpus")
            yield Static("", id="qemu", markup=False)
            yield Static("KVM VM exits", id="exits-title", markup=False)
            yield Static("", id="no-exits", markup=False)
            yield LiveTable(id="exits")
            yield Static("", id="times-title", markup=False)
            yield LiveTable(id="times")
        yield KeyFooter()

    def on_mount(self) -> None:
        services(self.app).stats_feed.subscribe(self, self.apply_stats)
        # this VM's exits by reason and by vCPU from the next sample on (the list reads
        # only their total); the first such sample has the reasons' totals, their rates follow
        services(self.app).sampler.watch_detail(self.key)
        self.query_one("#exits", LiveTable).focus()
        if not self.local:
            self.query_one("#qemu", Static).update(
                "QEMU process: shown for VMs on this machine only (this URI is not local)")
        if self.stats is not None:
            self.show(self.stats)

    def on_resize(self) -> None:
        # the exits tables and the summary are laid out for the width: lay them out again
        if self.stats is not None:
            self.show(self.stats)
        else:
            self.update_title()

    @property
    def line_width(self) -> int:
        """Columns the lines and tables of this screen have (the title and summary are padded)."""
        return self.app.size.width

    @property
    def figures(self) -> FleetFigures:
        return services(self.app).figures

    def title_text(self) -> str:
        s = self.summary
        host = f" on {s.host}" if self.fleet.multi_host else ""
        interval = services(self.app).sampler.interval
        return fit_parts([f"Performance: {s.name}", f"{s.state_text}{host}",
                          count(s.vcpus, "vCPU"), f"every {interval:g} s (+/-)", "escape back"],
                         self.line_width - 2)

    # -- updates ---------------------------------------------------------------------------

    def on_unmount(self) -> None:
        services(self.app).stats_feed.unsubscribe(self)
        services(self.app).sampler.unwatch_detail(self.key)

    def apply_stats(self, tick: StatsTick) -> None:
        stats = tick.stats.get(self.key)
        if tick.uri != self.key.uri or stats is None:
            return
        self.show(stats)
        if self.local and stats.state.word in ("running", "idle", "paused"):
            self.sample_process()

    def show(self, stats: DomainStats) -> None:
        self.stats = stats
        self.query_one("#title", Static).update(self.title_text())
        self.query_one("#summary", Static).update(self._summary_text(stats))
        vcpus = self.query_one("#vcpus", LiveTable)
        vcpus.display = bool(stats.vcpus)
        if stats.vcpus:
            vcpus.replace(*vcpu_rows(stats.vcpus, self.figures.vcpus.get(self.key, {}), 30))
        self._show_exits(stats)

    def _summary_text(self, st: DomainStats) -> str:
        used = "-"
        if st.memory_used_kib is not None:
            where = "in the guest" if st.memory_used_source == "guest" else "QEMU RSS"
            used = f"{human_kib(st.memory_used_kib)} ({where})"
        if st.memory_kib:
            used += f" of {human_kib(st.memory_kib)}"
        cpu = percent(st.cpu_percent) or "-"
        # each figure stays on one line with its label and unit, however narrow the terminal
        return (f"CPU {cpu:>5}% of {count(len(st.vcpus) or self.summary.vcpus, 'vCPU')}  "
                f"{sparkline(self.figures.cpu.get(self.key, ()), 40)}\n"
                + pack_parts([f"Memory used {used}",
                              f"disk read {bytes_per_second(st.disk_read_bps)} "
                              f"write {bytes_per_second(st.disk_write_bps)}",
                              f"net rx {bytes_per_second(st.net_rx_bps)} "
                              f"tx {bytes_per_second(st.net_tx_bps)}"], self.line_width - 2))

    def _show_exits(self, st: DomainStats) -> None:
        table = self.query_one("#exits", LiveTable)
        missing = self.query_one("#no-exits", Static)
        title = self.query_one("#exits-title", Static)
        if st.exits is None:
            reason = st.exits_unavailable_reason or "no counters"
            if reason in self._explained:
                reason = self._explained[reason] or reason
            else:
                self._explained[reason] = None
                self.explain(st)
            title.update("KVM VM exits: none to show")
            missing.update(reason)
            missing.display = True
            table.display = False
            self._show_times(None)
            return
        source = {"libvirt": "libvirt per-vCPU stats",
                  "debugfs": "KVM debugfs (summed over vCPUs)"}[st.exits_source or "libvirt"]
        if st.exits_unavailable_reason:  # shown from libvirt although debugfs was asked for
            source += f" (debugfs: {st.exits_unavailable_reason})"
        title.update(pack_parts(["KVM VM exits by reason, busiest first", f"from {source}"],
                                self.line_width - 2))
        missing.display = False
        table.display = True
        exits = ordered(st.exits)
        table.replace(*exit_count_rows(exits, st.exits_per_vcpu(), self.line_width))
        self._show_times(exits)

    def _show_times(self, exits: dict[str, Counter] | None) -> None:
        # KVM's *_ns counters are nanoseconds, not events: a table of their own, shown as time
        title = self.query_one("#times-title", Static)
        table = self.query_one("#times", LiveTable)
        columns, rows = time_counter_rows(exits or {}, self.line_width)
        title.display = table.display = bool(rows)
        title.update(pack_parts(["Time counters (*_ns): time, not exits",
                                 "summed over vCPUs: 1000 ms/s = 1 vCPU"], self.line_width - 2))
        table.replace(columns, rows)  # emptied too: no stale rows behind a hidden table

    # -- off the UI thread ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="explain-exits")
    def explain(self, st: DomainStats) -> None:
        try:
            sharper = explain_missing_exits(self.fleet.connection(self.key.uri).conn, st)
        except Exception:  # noqa: BLE001 - the sampler's own reason stays shown
            return
        reply(self, ExitsExplained(self.key, st.exits_unavailable_reason, sharper))

    def on_exits_explained(self, message: ExitsExplained) -> None:
        reason, sharper = message.reason, message.sharper
        self._explained[reason or "no counters"] = sharper
        if self.stats is not None and self.stats.exits is None:
            self.query_one("#no-exits", Static).update(sharper or reason or "")

    @work(thread=True, exclusive=True, group="qemu-process")
    def sample_process(self) -> None:
        pid = services(self.app).sampler.qemu.pid(self.key.uuid.lower())
        if self._watch is None or pid != self._watch.pid:
            if pid is None:
                reply(self, ProcessSampled(self.key, None))
                return
            self._watch = QemuProcessWatch(pid)
        reply(self, ProcessSampled(self.key, self._watch.sample()))

    def on_process_sampled(self, message: ProcessSampled) -> None:
        sample = message.sample
        box = self.query_one("#qemu", Static)
        if sample is None:
            box.update("QEMU process: not found on this machine")
        elif sample.error:
            box.update(f"QEMU process {sample.pid}: {sample.error}")
        else:
            box.update(pack_parts([
                f"QEMU process {sample.pid}: CPU {percent(sample.cpu_percent) or '-'}%",
                f"RSS {human_kib(sample.rss_bytes // 1024)}", count(sample.threads, "thread"),
                f"I/O read {bytes_per_second(sample.read_bps)} "
                f"write {bytes_per_second(sample.write_bps)}"], self.line_width - 2))

