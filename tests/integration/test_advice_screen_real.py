"""The Advice section of `x` on a real KVM guest with emulated devices, in the private daemon:
the numbers a user reads in its findings are the figures of the very tick the advice was
worked out from, and its configuration findings quote the guest's live XML.

The guest is the firmware-only KVM guest (no OS: SeaBIOS finds no boot disk and waits) with
an IDE and a SATA disk and an e1000 and an rtl8139 NIC. Its exit rates are far below the rate
rules' thresholds, so `Limits` — the default every `Inputs` gets — is replaced by one with
every warning threshold at 0 (pytest's monkeypatch on `Inputs.__init__`'s default; libvirt
itself is not mocked: every figure comes from the private daemon). The problem thresholds stay
out of reach, so the rate findings are warnings.

Which tick each advice was worked out from is recorded by a pass-through spy on the screen's
`advise_with` (the call that joins the VM's XML and host with the screen's figures), and the
ticks the sampler published by a pass-through on the app's stats feed. Then, for each of three
advices worked out from a running tick with rates, and of two from a paused one:

- the io, mmio and EPT-fault evidence the screen shows (rate, busiest vCPU and its rate, total
  since start) and its steal evidence (per vCPU, and the worst in the title) equal that tick's
  DomainStats, and the heading counts its findings;
- that tick was the newest the sampler had published for the VM;
- the exits table's totals and the vCPU table's Steal% show the same tick (while no newer tick
  has moved them on);
- running, the totals lie between `virsh domstats` read before and after; paused (`virsh
  suspend`: the counters stand still) every rate is 0 and the totals equal `virsh domstats`
  exactly, in the advice and in the exits table.

The checks are strict: a newest advice still not shown SETTLE_S after it was worked out fails
at once, saying what differed — an older advice left on screen, advice from a tick that was not
the newest, or other figures are never waited out. The configuration findings (disk bus, NIC
model, CPU model) and the devices the rate findings name must quote the live XML's elements.

Where KVM counts few port or MMIO exits (nested KVM without VT-x, as under PVM: the firmware's
instructions are mostly emulated, insn_emulation grows) the io and mmio rates are 0 and their
totals soon stand still; steal, from vcpu.N.delay, still changes from tick to tick.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pytest

from kvmtui.screens import performance
from kvmtui.screens.performance import PerformanceScreen
from kvmtui.virt.advice import Finding, Inputs, Limits
from kvmtui.virt.models import DomainKey, DomainState, DomainStats
from kvmtui.widgets.advice_view import counts
from tests.helpers import open_from_list, screen_text
from tests.integration.conftest import Guest, _counter, kvm_usable, running_kvmtui
from tests.integration.test_advise_real import ZERO
from tests.integration.test_performance_real import as_shown, shown_exits, virsh_exit_sums

SIZE = (200, 100)   # wide: an evidence line is one screen line; tall: the whole advice at once
RATE_REASONS = ("io", "mmio")
SETTLE_S = 1.0      # for the screen to show an advice once worked out (ticks come every 1 s)
SEVERITY_LINE = re.compile(r"^(problem|warning|info)\s{2,}(\S.*)$")


# -- the guest -------------------------------------------------------------------------------

def define_emulated_guest(hypervisor, name: str) -> Guest:
    """The firmware KVM guest, with disks and NICs QEMU emulates register by register."""
    disks = ""
    for dev, bus in (("hda", "ide"), ("sda", "sata")):
        image = hypervisor.work / f"{name}-{dev}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "16M"],
                       check=True)
        disks += (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                  f"<source file='{image}'/><target dev='{dev}' bus='{bus}'/></disk>\n    ")
    nics = "".join(f"<interface type='user'><model type='{model}'/></interface>\n    "
                   for model in ("e1000", "rtl8139"))
    return hypervisor.define_firmware_guest(name, kind="kvm", devices=disks + nics)


@pytest.fixture
def emulated_guest(hypervisor):
    reason = kvm_usable()
    if reason:
        pytest.skip(f"no KVM here ({reason}): the KVM guest needs /dev/kvm")
    guest = define_emulated_guest(hypervisor, f"emulated{next(_counter)}")
    yield guest
    guest.remove()


# -- what the screen worked out, and from which tick -----------------------------------------

@dataclass(eq=False)
class Advised:
    stats: DomainStats | None
    findings: list[Finding]
    newest: bool   # stats is the newest tick the sampler had published for this VM
    tables_seen: bool = False   # the screen's tables were compared while showing this tick


class Recorder:
    """Every tick the app published, and every advice the `x` screen worked out (pass-through:
    nothing is changed)."""

    def __init__(self, app, monkeypatch) -> None:
        self.published: dict[DomainKey, DomainStats] = {}
        self.advised: list[Advised] = []
        feed = app.stats_feed
        publish = feed.publish

        def recording_publish(tick):
            self.published.update(tick.stats)
            publish(tick)

        advise_with = performance.advise_with

        def recording_advise_with(inputs, stats):
            findings = advise_with(inputs, stats)
            newest = stats is None or self.published.get(stats.key) is stats
            self.advised.append(Advised(stats, findings, newest))
            return findings

        monkeypatch.setattr(feed, "publish", recording_publish)
        monkeypatch.setattr(performance, "advise_with", recording_advise_with)

    @property
    def latest(self) -> Advised | None:
        return self.advised[-1] if self.advised else None


def zero_thresholds(monkeypatch) -> None:
    """Every Inputs made from now on (the screen's worker makes them) gets the ZERO limits."""
    defaults = tuple(ZERO if isinstance(d, Limits) else d for d in Inputs.__init__.__defaults__)
    assert ZERO in defaults, "Inputs has no Limits default to replace"
    monkeypatch.setattr(Inputs.__init__, "__defaults__", defaults)


# -- reading the screen ----------------------------------------------------------------------

def finding_blocks(text: str) -> dict[str, list[str]]:
    """Each finding on screen: its title -> its lines (evidence, fix), stripped; a finding ends
    at the blank line before the next."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        head = SEVERITY_LINE.match(line)
        if head:
            current = blocks.setdefault(head.group(2), [])
        elif not line:
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def number(text: str) -> int:
    return int(text.replace(",", ""))


def figures_shown(text: str) -> dict[str, object]:
    """The figures the rate findings on screen quote, as numbers:
    io/mmio -> (rate/s, busiest vCPU, its rate/s, total since start),
    pf_taken/pf_fixed -> (rate/s, busiest vCPU, its rate/s),
    steal -> (worst % in the title, {vCPU: %})."""
    shown: dict[str, object] = {}
    for title, lines in finding_blocks(text).items():
        joined = " ".join(lines)
        for reason in RATE_REASONS:
            if title == f"Many {reason} exits: devices emulated in QEMU":
                m = re.search(rf"(?<![a-z]){reason} exits ([\d,]+)/s \(vCPU(\d+) ([\d,]+)/s\); "
                              r"([\d,]+) since start", joined)
                shown[reason] = (number(m[1]), int(m[2]), number(m[3]), number(m[4])) if m \
                    else f"unreadable: {joined}"
        if title == "Many EPT page faults, memory not on huge pages":
            m = re.search(r"(pf_taken|pf_fixed) ([\d,]+)/s \(vCPU(\d+) ([\d,]+)/s\)", joined)
            if m:
                shown[m[1]] = (number(m[2]), int(m[3]), number(m[4]))
            else:
                shown["ept"] = f"unreadable: {joined}"
        worst = re.fullmatch(r"vCPUs wait for host CPUs \(steal up to ([\d.]+)%\)", title)
        if worst:
            m = re.search(r"steal \(vcpu\.N\.delay\): ((?:vCPU\d+ [\d.]+%(?:, )?)+)", joined)
            per = {int(i): float(p) for i, p in re.findall(r"vCPU(\d+) ([\d.]+)%", m[1])} \
                if m else {}
            shown["steal"] = (float(worst[1]), per)
    return shown


def figures_of(stats: DomainStats) -> dict[str, object]:
    """The same figures, straight from the tick's DomainStats (rounded as shown: rates to
    whole events, steal to a tenth of a percent), with every threshold at 0."""
    expected: dict[str, object] = {}
    exits = stats.exits or {}
    per_vcpu = stats.exits_per_vcpu()
    pf = "pf_taken" if "pf_taken" in exits else "pf_fixed"
    for reason in (*RATE_REASONS, pf):
        counter = exits.get(reason)
        if counter is None or counter.rate is None:
            continue
        rates = [(i, c[reason].rate) for i, c in enumerate(per_vcpu)
                 if reason in c and c[reason].rate is not None]
        assert rates, f"{reason}: no per-vCPU rates (libvirt's per-vCPU counters expected)"
        index, busiest = max(rates, key=lambda item: item[1])
        figures = (round(counter.rate), index, round(busiest))
        expected[reason] = figures + (counter.total,) if reason in RATE_REASONS else figures
    steals = {v.index: round(v.steal_percent, 1) for v in stats.vcpus
              if v.steal_percent is not None}
    if steals:
        expected["steal"] = (max(steals.values()), steals)
    return expected


def tables_of(screen: PerformanceScreen) -> dict[str, object]:
    """What the screen's tables show for the figures the advice quotes: exits totals, Steal%."""
    totals = shown_exits(screen)
    steal = {int(index): cells[3] for index, cells in
             screen.query_one("#vcpus").row_values().items()}
    return {"totals": {r: totals.get(r) for r in (*RATE_REASONS, "pf_taken", "pf_fixed")
                       if r in totals},
            "steal": steal}


def tables_expected(stats: DomainStats) -> dict[str, object]:
    exits = stats.exits or {}
    return {"totals": {r: exits[r].total for r in (*RATE_REASONS, "pf_taken", "pf_fixed")
                       if r in exits},
            "steal": {v.index: "" if v.steal_percent is None else f"{v.steal_percent:.1f}"
                      for v in stats.vcpus}}


def differences(app, screen: PerformanceScreen, advised: Advised) -> list[str]:
    """How the screen differs from the advice worked out from `advised.stats`: [] when the
    findings, the heading and the tables all show that tick."""
    text = screen_text(app)
    stats = advised.stats
    assert stats is not None
    out = []
    if not advised.newest:
        out.append("the advice was worked out from a tick older than the newest published")
    if (shown := figures_shown(text)) != (want := figures_of(stats)):
        out.append(f"findings show {shown}, the tick has {want}")
    if f"Advice: {counts(advised.findings)}" not in [line.strip() for line in text.splitlines()]:
        out.append(f"no heading 'Advice: {counts(advised.findings)}' on screen")
    if screen.stats is stats:   # (a newer tick moves the tables on, and the advice later)
        # the tables' cells are set in the same call that works the advice out: no repaint
        # to wait for
        tables, want_tables = tables_of(screen), tables_expected(stats)
        assert tables == want_tables, f"tables show {tables}, their tick has {want_tables}"
        advised.tables_seen = True
    return out


async def each_shown(app, pilot, screen, recorder: Recorder, ready, count: int,
                     timeout: float) -> Advised:
    """Let the app run until `count` advices worked out from `ready` ticks have each been
    shown, as the newest, with exactly their tick's figures: the newest of them.

    Strict: once the screen has had SETTLE_S to repaint a newest advice (and no newer one came),
    a difference fails at once, saying what differed: an old advice still shown, or one from a
    tick that was not the newest, is never waited out. After `timeout`, fails too."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    shown: list[Advised] = []
    newest, since = None, loop.time()
    why = ["no advice worked out yet"]
    while len(shown) < count:
        if loop.time() > deadline:
            raise AssertionError(f"after {timeout} s, {len(shown)} of {count} advices shown; "
                                 f"last: {why}\n{screen_text(app)}")
        if not screen.query_one("#body").is_vertical_scroll_end:
            # the advice grew below the screen: `end` again, as a reader would (the advice,
            # shorter than the screen, is then all in view)
            await pilot.press("end")
            continue
        advised = recorder.latest
        if advised is not newest:
            newest, since = advised, loop.time()
        if advised is not None and advised.stats is not None and ready(advised.stats) \
                and not any(a is advised for a in shown):
            why = differences(app, screen, advised)
            if not why:
                shown.append(advised)
            elif loop.time() - since > SETTLE_S:
                raise AssertionError(f"{SETTLE_S} s after the advice was worked out, the screen "
                                     f"does not show its tick: {why}\n{screen_text(app)}")
        await pilot.pause(0.02)
    assert any(a.tables_seen for a in shown), "the tables never showed an advice's tick"
    return shown[-1]


def has_rates(stats: DomainStats) -> bool:
    exits = stats.exits or {}
    return stats.exits_detail and all(exits.get(r) is not None and exits[r].rate is not None
                                      for r in RATE_REASONS)


def paused_still(stats: DomainStats) -> bool:
    """A tick taken while paused, its rates over an interval spent paused: all 0."""
    return stats.state is DomainState.PAUSED and has_rates(stats) \
        and {c.rate for c in (stats.exits or {}).values()} == {0.0}


# -- the test --------------------------------------------------------------------------------

async def test_x_screen_advice_quotes_the_figures_of_its_tick_and_the_live_xml(
        hypervisor, emulated_guest, monkeypatch):
    name = emulated_guest.name
    zero_thresholds(monkeypatch)
    hypervisor.virsh("start", name)
    before = virsh_exit_sums(hypervisor, name)
    live = ET.fromstring(hypervisor.virsh("dumpxml", name))
    async with running_kvmtui(hypervisor.uri, size=SIZE) as (app, pilot):
        recorder = Recorder(app, monkeypatch)
        screen = await open_from_list(pilot, name, "x", PerformanceScreen,
                                      lambda s: s.advice_inputs is not None, 15)
        running = await each_shown(app, pilot, screen, recorder, has_rates, 3, 30)
        after = virsh_exit_sums(hypervisor, name)
        text = screen_text(app)
        blocks = finding_blocks(text)
        assert running.stats is not None and running.stats.exits_source == "libvirt"
        for reason in RATE_REASONS:
            # counters only grow: the tick's total was read between these two readings
            assert before.get(reason, 0) <= running.stats.exits[reason].total \
                <= after[reason], reason
        assert_config_quotes(blocks, live)
        assert_devices_named(blocks, live)

        # paused, the counters stand still: what the advice quotes equals virsh exactly
        hypervisor.virsh("suspend", name)
        frozen = virsh_exit_sums(hypervisor, name)
        paused = await each_shown(app, pilot, screen, recorder, paused_still, 2, 30)
        assert paused.stats is not None
        for reason in RATE_REASONS:
            assert figures_shown(screen_text(app))[reason] == (0, 0, 0, frozen[reason])
        assert shown_exits(screen) == as_shown(frozen)
        assert virsh_exit_sums(hypervisor, name) == frozen


def assert_config_quotes(blocks: dict[str, list[str]], live: ET.Element) -> None:
    """The configuration findings quote the live XML's own elements, each on one line."""
    disks = live.findall("devices/disk")
    assert blocks["Disk on an emulated bus: IDE, SATA (AHCI)"][:len(disks)] == [
        f"<target dev='{d.find('target').get('dev')}' bus='{d.find('target').get('bus')}'/> "
        f"({d.find('source').get('file')})" for d in disks]
    nics = live.findall("devices/interface")
    assert blocks["Emulated network card: e1000, rtl8139"][:len(nics)] == [
        f"<interface type='{n.get('type')}'> <mac address='{n.find('mac').get('address')}'/> "
        f"<model type='{n.find('model').get('type')}'/>" for n in nics]
    cpu = live.find("cpu")
    assert blocks["Generic CPU model hides the host's instructions"][0] == \
        f"<cpu mode='{cpu.get('mode')}'> <model>{cpu.findtext('model')}</model>"


def assert_devices_named(blocks: dict[str, list[str]], live: ET.Element) -> None:
    """Each rate finding names the emulated devices that exit its way, as XML elements."""
    mac = {n.find("model").get("type"): n.find("mac").get("address")
           for n in live.findall("devices/interface")}
    named = {reason: " ".join(blocks[f"Many {reason} exits: devices emulated in QEMU"])
             for reason in RATE_REASONS}
    assert "disk hda <target bus='ide'/>" in named["io"]
    assert f"NIC {mac['rtl8139']} <model type='rtl8139'/>" in named["io"]
    assert "disk sda <target bus='sata'/>" in named["mmio"]
    assert f"NIC {mac['e1000']} <model type='e1000'/>" in named["mmio"]
    assert "sata" not in named["io"] and "ide'" not in named["mmio"]
