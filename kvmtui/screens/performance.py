"""`x` on a VM: its CPU per vCPU, its QEMU process, KVM's VM-exit counters by reason, live,
and the advice they, the VM's XML and its host give (below the tables, in the screen's scroll).

Figures come from the app's sampler (one bulk libvirt call per tick for the whole fleet); this
screen adds only what is about this one VM: the QEMU process through psutil (local domains),
and — once — a sharper reason when a remote domain has no exit counters.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from kvmtui.keys import BACK_BINDINGS
from kvmtui.messages import ExitsExplained, ProcessSampled
from kvmtui.screens.advice_reading import AdviceRead, advise_with, read_advice_inputs
from kvmtui.screens.replies import reply
from kvmtui.screens.vm_screen import VmScreen
from kvmtui.services import services
from kvmtui.virt.advice import Finding, Inputs
from kvmtui.virt.models import (
    Counter,
    DomainEvent,
    DomainStats,
    DomainSummary,
    StatsTick,
)
from kvmtui.virt.perf.figures import FleetFigures
from kvmtui.virt.perf.qemuproc import QemuProcessWatch
from kvmtui.virt.perf.rates import ordered
from kvmtui.virt.perf.stats import explain_missing_exits, is_local
from kvmtui.virt.session.errors import libvirt_message
from kvmtui.virt.session.fleet import Fleet
from kvmtui.widgets.advice_view import findings_view, heading
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

ADVICE_EVERY_S = 2.0   # the advice follows the figures, recomputed at most this often


class ExitsTable(LiveTable):
    """The exits table, at the top of the screen's scroll: its cursor moves while the tables
    are in full view; past its first or last row the keys scroll the screen on to the advice
    below (and back); end shows the advice's start (again: its end), home the top."""

    def _scrolled(self) -> bool:
        return self.screen.query_one("#body", VerticalScroll).scroll_y > 0

    def action_cursor_down(self) -> None:
        if self._scrolled() or self.cursor_row >= self.row_count - 1:
            raise SkipAction()
        super().action_cursor_down()

    def action_page_down(self) -> None:
        if self._scrolled() or self.cursor_row >= self.row_count - 1:
            raise SkipAction()
        super().action_page_down()

    def action_cursor_up(self) -> None:
        if self._scrolled() or self.cursor_row <= 0:
            raise SkipAction()
        super().action_cursor_up()

    def action_page_up(self) -> None:
        if self._scrolled() or self.cursor_row <= 0:
            raise SkipAction()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        raise SkipAction()

    def action_scroll_end(self) -> None:
        body = self.screen.query_one("#body", VerticalScroll)
        advice = self.screen.query_one("#advice", Static)
        if body.scroll_y >= advice.virtual_region.y or body.is_vertical_scroll_end:
            raise SkipAction()   # already there: the screen's own end
        body.scroll_to_widget(advice, top=True, animate=False)


class PerformanceScreen(VmScreen):
    BINDINGS = [*BACK_BINDINGS]
    kind = "performance"

    DEFAULT_CSS = """
    PerformanceScreen #title { height: 1; padding: 0 1; background: $panel; text-style: bold;
        text-wrap: nowrap; text-overflow: ellipsis; }
    PerformanceScreen #advice-line { height: 1; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    PerformanceScreen #summary { height: auto; padding: 0 1; }
    PerformanceScreen #qemu { height: auto; padding: 0 1; color: $text-muted; }
    PerformanceScreen #vcpus { height: auto; max-height: 7; }
    PerformanceScreen #exits-title { height: auto; padding: 0 1; text-style: bold; }
    PerformanceScreen #no-exits { height: auto; padding: 0 1; color: $text-warning; }
    /* no scrollbar beside the tables (their widths are the screen's): the advice line says
       what is below */
    PerformanceScreen #body { height: 1fr; scrollbar-size-vertical: 0; }
    PerformanceScreen #live { height: 100%; }   /* the tables: one screenful, the advice below */
    PerformanceScreen #live.short { height: auto; }
    PerformanceScreen #exits { height: 1fr; }
    PerformanceScreen #times-title { height: auto; padding: 0 1; text-style: bold; }
    PerformanceScreen #times { height: auto; max-height: 5; }
    PerformanceScreen #advice { height: auto; padding: 1 1 0 1; }
    """

    def __init__(self, fleet: Fleet, summary: DomainSummary,
                 stats: DomainStats | None = None) -> None:
        super().__init__(fleet, summary)
        self.stats = stats
        self.local = is_local(summary.key.uri)
        self._watch: QemuProcessWatch | None = None
        self._explained: dict[str, str | None] = {}
        self.advice_inputs: Inputs | None = None   # its XML and host, read on mount and events
        self.findings: list[Finding] | None = None  # shown now: from those and self.stats
        self._advised_at = 0.0
        self._table_shown: bool | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), id="title", markup=False)
        yield Static("Advice: reading…", id="advice-line", markup=False)
        # one scroll: a screenful of figures and tables (the exits table takes what is left
        # and scrolls itself), then the advice
        with VerticalScroll(id="body"):
            with Vertical(id="live"):
                yield Static("waiting for the first sample…", id="summary", markup=False)
                yield LiveTable(id="vcpus")
                yield Static("", id="qemu", markup=False)
                yield Static("KVM VM exits", id="exits-title", markup=False)
                yield Static("", id="no-exits", markup=False)
                yield ExitsTable(id="exits")
                yield Static("", id="times-title", markup=False)
                yield LiveTable(id="times")
            yield Static("", id="advice", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        services(self.app).stats_feed.subscribe(self, self.apply_stats)
        # this VM's exits by reason and by vCPU from the next sample on (the list reads
        # only their total); the first such sample has the reasons' totals, their rates follow
        services(self.app).sampler.watch_detail(self.key)
        self.query_one("#exits", LiveTable).focus()
        self.read_advice()
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
        if time.monotonic() - self._advised_at >= ADVICE_EVERY_S:
            self.show_advice()

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
            self._fit_live(table_shown=False)
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
        self._fit_live(table_shown=True)
        exits = ordered(st.exits)
        table.replace(*exit_count_rows(exits, st.exits_per_vcpu(), self.line_width))
        self._show_times(exits)

    def _fit_live(self, table_shown: bool) -> None:
        # with an exits table the tables take a screenful; without, the advice follows closely
        if table_shown == self._table_shown:
            return
        self._table_shown = table_shown
        self.query_one("#live").set_class(not table_shown, "short")
        focused = self.focused
        if focused is None or focused.id in ("exits", "body"):
            self.query_one("#exits" if table_shown else "#body").focus()

    def _show_times(self, exits: dict[str, Counter] | None) -> None:
        # KVM's *_ns counters are nanoseconds, not events: a table of their own, shown as time
        title = self.query_one("#times-title", Static)
        table = self.query_one("#times", LiveTable)
        columns, rows = time_counter_rows(exits or {}, self.line_width)
        title.display = table.display = bool(rows)
        title.update(pack_parts(["Time counters (*_ns): time, not exits",
                                 "summed over vCPUs: 1000 ms/s = 1 vCPU"],
                                self.line_width - 2))
        table.replace(columns, rows)  # emptied too: no stale rows behind a hidden table

    # -- advice: from the XML and host (read in a worker) and the figures shown ------------

    def show_advice(self) -> None:
        if self.advice_inputs is None:
            return
        self._advised_at = time.monotonic()
        self.findings = findings = advise_with(self.advice_inputs, self.stats)
        line = heading(findings)
        line.append(" · press end to read it, home to go back", style="dim")
        self.query_one("#advice-line", Static).update(line)
        self.query_one("#advice", Static).update(findings_view(findings))

    @work(thread=True, exclusive=True, group="advice-read")
    def read_advice(self) -> None:
        try:
            inputs = read_advice_inputs(self.fleet, self.key)
        except Exception as err:  # noqa: BLE001 - libvirt's words, on the screen
            reply(self, AdviceRead(self.key, None, libvirt_message(err)))
            return
        reply(self, AdviceRead(self.key, inputs))

    def on_advice_read(self, message: AdviceRead) -> None:
        if message.key != self.key:
            return
        if message.inputs is None:
            self.query_one("#advice-line", Static).update(
                Text(f"Advice: cannot read the VM or its host: {message.error}"))
            return
        self.advice_inputs = message.inputs
        self.show_advice()

    def vm_event(self, change: DomainEvent) -> None:
        if change.kind in ("lifecycle", "device-added", "device-removed", "reboot"):
            self.read_advice()  # its XML (defined again, a device plugged) or state changed

    def vm_reloaded(self) -> None:
        self.read_advice()

    # -- off the UI thread ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="explain-exits")
    def explain(self, st: DomainStats) -> None:
        try:
            with self.fleet.connection(self.key.uri).using() as conn:
                sharper = explain_missing_exits(conn, st)
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

