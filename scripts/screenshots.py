#!/usr/bin/env python3
"""Regenerate screenshots/*.svg: run it after changing what a screen shows.

Most come from the demo lab (libvirt's test driver). The live ones (list figures, performance,
host) need real guests: with --live, a private libvirtd (scripts/private_libvirtd.py) runs a
KVM guest and a TCG guest with no OS for a few seconds, so the VM exits shown are real.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kvmtui.app import KvmApp  # noqa: E402
from kvmtui.virt.session.demo import apply_demo_settings, demo_fleet_path  # noqa: E402
from kvmtui.virt.session.fleet import Fleet  # noqa: E402

# build-smp, db-storage, win10 and web-macvtap marked (space marks and moves down)
MARKS = ["space", "down", "space", "end", "space", "up", "space"]
SHOTS = [  # file name, terminal size, keys pressed first
    ("domain-list", (100, 30), []),
    ("domain-list-80x24", (80, 24), []),
    ("filter-running", (100, 30), ["slash", *"state:running", "enter"]),
    ("confirm-force-off", (100, 30), ["down", "down", "F"]),
    ("help", (100, 30), ["question_mark"]),
    ("details-overview", (100, 30), ["end", "enter", "WAIT", "1"]),
    ("details-cpu-topology", (100, 30), ["enter", "WAIT", "2"]),
    ("details-disks", (100, 30), ["end", "enter", "WAIT", "4"]),
    ("details-devices", (100, 30), ["end", "enter", "WAIT", "6"]),
    ("details-xml-80x24", (80, 24), ["end", "enter", "WAIT", "7"]),
    ("details-advice-80x24", (80, 24), ["end", "enter", "WAIT", "WAIT", "8"]),
    ("advice-x-80x24", (80, 24), ["end", "x", "WAIT", "WAIT", "end", "WAIT"]),
    ("snapshot-tree", (100, 30), ["end", "t", "WAIT"]),
    ("snapshot-delete", (100, 30), ["end", "t", "WAIT", "D"]),
    ("marks-80x24", (80, 24), MARKS),
    ("bulk-pause", (100, 30), [*MARKS, "p", "WAIT"]),
    ("palette", (100, 30), ["end", "ctrl+p", "WAIT"]),
    ("action-log", (100, 30), [*MARKS, "p", "WAIT", "y", "WAIT", "L", "WAIT"]),
]


LIVE_SHOTS = [
    ("live-list", (100, 30), ["WAIT"] * 6),
    ("live-list-80x24", (80, 24), ["WAIT"] * 6),
    ("performance-kvm", (100, 30), ["home", "x", "WAIT", "WAIT", "WAIT", "WAIT"]),
    ("performance-tcg-80x24", (80, 24), ["end", "x", "WAIT", "WAIT", "WAIT"]),
    ("host", (100, 34), ["H", "WAIT", "enter", "WAIT", "WAIT", "WAIT", "WAIT"]),
]
# The private daemon, the demo lab and a port where nothing listens: `H`, the hosts overview.
HOSTS_SHOT = ("hosts-80x24", (80, 24), ["WAIT", "WAIT", "H", "WAIT", "WAIT", "WAIT", "WAIT"])
REFUSED_URI = "qemu+tcp://127.0.0.1:1/system"


def demo_copy(workdir: Path) -> str:
    fleet_file = workdir / "demo-fleet.xml"
    shutil.copyfile(demo_fleet_path(), fleet_file)
    return f"test://{fleet_file}"


async def shoot(name: str, size: tuple[int, int], keys: list[str], workdir: Path,
                uri: str | None = None, more: tuple[str, ...] = ()) -> None:
    uri = uri or demo_copy(workdir)
    demos = {u: apply_demo_settings for u in (uri, *more) if u.startswith("test:")}
    fleet = Fleet([uri, *more], prepare=demos)
    fleet.start()  # as kvmtui does: each host on its own, the list drawn while they answer
    fleet.wait_answered(5.0)
    app = KvmApp(fleet, fleet.summaries())
    try:
        async with app.run_test(size=size) as pilot:
            # the list as a user sees it a moment after it appeared: with its advice marks
            for _ in range(100):
                if app.domain_list.advice.settled:
                    break
                await pilot.pause(0.05)
            for key in keys:
                if key == "WAIT":  # the details screen reads libvirt in a worker
                    await pilot.pause(0.5)
                else:
                    await pilot.press(key)
            await pilot.pause(0.3)
            svg = app.export_screenshot(title=f"kvmtui — {name}")
    finally:
        fleet.close()
    (ROOT / "screenshots" / f"{name}.svg").write_text(svg)
    print(f"screenshots/{name}.svg")


GUEST = """<domain type='{kind}'><name>{name}</name><memory unit='MiB'>64</memory>
<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
<features><acpi/></features><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
</devices></domain>"""


SHELL_GUEST = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type><kernel>{dir}/vmlinuz</kernel>
<initrd>{dir}/initramfs.img</initrd><cmdline>console=ttyS1 {word} panic=-1</cmdline></os>
<features><acpi/></features><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
<serial type='pty'><target port='0'/></serial><serial type='null'><target port='1'/></serial>
<console type='pty'><target type='serial' port='0'/></console><memballoon model='none'/>
</devices></domain>"""


def typed(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text] + ["enter", "WAIT"]


# The shell guest of the integration tier (scripts/build_test_guest.py): its console, in use.
CONSOLE_KEYS = ["slash", *"web-shell", "enter", "c", "WAIT", "WAIT", "enter", "WAIT", "WAIT",
                *typed("uname -sr"), *typed("ls --color=always /"),
                *typed("echo $((6*7)) from $(hostname)")]


async def live(workdir: Path) -> None:
    import libvirt

    sys.path.insert(0, str(ROOT / "scripts"))
    from private_libvirtd import PrivateLibvirtd

    daemon = PrivateLibvirtd(workdir / "hv")
    daemon.check()
    daemon.start()
    try:
        conn = libvirt.open(daemon.uri)
        for kind, name in (("kvm", "kvm-firmware"), ("qemu", "tcg-firmware")):
            conn.defineXML(GUEST.format(kind=kind, name=name)).create()

        await asyncio.sleep(3)  # the firmware runs up real exits
        conn.getAllDomainStats(0, 0)  # a fresh daemon's first stats call takes seconds
        conn.close()
        for name, size, keys in LIVE_SHOTS:
            await shoot(name, size, keys, workdir, daemon.uri)
        name, size, keys = HOSTS_SHOT
        await shoot(name, size, keys, workdir, daemon.uri, (demo_copy(workdir), REFUSED_URI))
        from build_test_guest import SHELL_WORD, build, default_cache

        conn = libvirt.open(daemon.uri)
        shell = SHELL_GUEST.format(name="web-shell", dir=build(default_cache()), word=SHELL_WORD)
        conn.defineXML(shell).create()  # last: the shots above list the firmware guests only
        conn.close()
        await asyncio.sleep(4)  # it boots to its shell
        await shoot("console-80x24", (80, 24), CONSOLE_KEYS, workdir, daemon.uri)
    finally:
        daemon.stop()


async def main() -> None:
    (ROOT / "screenshots").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, keys in SHOTS:
            await shoot(name, size, keys, Path(tmp))
        if "--live" in sys.argv:
            await live(Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
