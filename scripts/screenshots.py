#!/usr/bin/env python3
"""Regenerate screenshots/*.svg from the demo lab: run it after changing what a screen shows."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kvmtui.app import KvmApp  # noqa: E402
from kvmtui.virt.demo import apply_demo_settings, demo_fleet_path  # noqa: E402
from kvmtui.virt.fleet import Fleet  # noqa: E402

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
    ("snapshot-tree", (100, 30), ["end", "t", "WAIT"]),
    ("snapshot-delete", (100, 30), ["end", "t", "WAIT", "D"]),
]


async def shoot(name: str, size: tuple[int, int], keys: list[str], workdir: Path) -> None:
    fleet_file = workdir / "demo-fleet.xml"
    shutil.copyfile(demo_fleet_path(), fleet_file)
    fleet = Fleet([f"test://{fleet_file}"])
    fleet.open_all()
    apply_demo_settings(next(iter(fleet.connections.values())).conn)
    app = KvmApp(fleet, fleet.list_summaries())
    try:
        async with app.run_test(size=size) as pilot:
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


async def main() -> None:
    (ROOT / "screenshots").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, size, keys in SHOTS:
            await shoot(name, size, keys, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
