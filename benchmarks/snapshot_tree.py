#!/usr/bin/env python3
"""Time to show a 500-snapshot tree: from pressing `t` to the tree on screen.

Builds a test-driver domain whose snapshots branch (each one's parent is an earlier one, picked
deterministically, so the tree is both deep and wide), opens kvmtui headless on it, presses `t`
and waits until every node is in the tree and the screen has been drawn. Prints the median of
several runs. Target: < 300 ms.

    .venv/bin/python benchmarks/snapshot_tree.py [--snapshots 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kvmtui.app import KvmApp  # noqa: E402
from kvmtui.screens.snapshots import SnapshotScreen  # noqa: E402
from kvmtui.virt.session.fleet import Fleet  # noqa: E402

NS = "http://libvirt.org/schemas/domain/test/1.0"


def node_file(path: Path, count: int) -> str:
    rng = random.Random(42)
    dom = ("<domain type='test'><name>many</name><uuid>00000000-0000-4000-8000-00000000abcd</uuid>"
           "<memory unit='MiB'>512</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>")
    snaps = []
    for i in range(count):
        # mostly extend a recent node (depth), sometimes branch from an old one (width)
        parent = None if i == 0 else (i - 1 if rng.random() < 0.6 else rng.randrange(i))
        parent_xml = f"<parent><name>s{parent:03d}</name></parent>" if parent is not None else ""
        snaps.append(f"<test:domainsnapshot><name>s{i:03d}</name><state>shutoff</state>"
                     f"{parent_xml}<creationTime>{1_700_000_000 + i * 60}</creationTime>"
                     f"<memory snapshot='no'/>{dom}<active>{int(i == count - 1)}</active>"
                     "</test:domainsnapshot>")
    xml = (f"<node><domain type='test' xmlns:test='{NS}'><name>many</name>"
           "<uuid>00000000-0000-4000-8000-00000000abcd</uuid><memory unit='MiB'>512</memory>"
           "<vcpu>1</vcpu><os><type>hvm</type></os><test:runstate>5</test:runstate>"
           + "".join(snaps) + "</domain></node>")
    path.write_text(xml)
    return f"test://{path}"


async def measure(uri: str, count: int) -> float:
    fleet = Fleet([uri])
    fleet.open_all()
    app = KvmApp(fleet, fleet.list_summaries())
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            start = time.perf_counter()
            await pilot.press("t")
            while not (isinstance(app.screen, SnapshotScreen) and app.screen.snap_tree is not None
                       and len(app.screen.snap_tree.snapshots) == count):
                await asyncio.sleep(0.001)
            await pilot.pause(0)  # the frame with the tree is drawn
            return time.perf_counter() - start
    finally:
        fleet.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uri = node_file(Path(tmp) / "snapshots.xml", args.snapshots)
        times = [asyncio.run(measure(uri, args.snapshots)) for _ in range(args.runs)]
    ms = [t * 1000 for t in times]
    print(f"{args.snapshots} snapshots in a branching tree, {args.runs} runs")
    print(f"press t -> tree shown: median {statistics.median(ms):.0f} ms, "
          f"min {min(ms):.0f} ms, max {max(ms):.0f} ms  (target < 300 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
