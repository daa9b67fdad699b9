"""`kvmtui top [-c URI]... --once|--iterations N [--interval S] --json|--csv`: samples for scripts.

Like `virt-top --csv` and `kvm_stat -1`: every domain's CPU, memory, disk and network rates and
its KVM exit counters by reason, each {"total": N, "rate": R}. Rates are per second against the
previous iteration, so the first sample has none (null), as a counter alone cannot give a rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import sys
import time
from datetime import UTC, datetime

from kvmtui.cli.connect import Opened
from kvmtui.cli.options import (
    add_connection_options,
    add_exits_source_option,
    positive_int,
    seconds_in,
)


def build_parser() -> argparse.ArgumentParser:
    from kvmtui.virt.perf.stats import MAX_INTERVAL_S, MIN_INTERVAL_S

    parser = argparse.ArgumentParser(
        prog="kvmtui top",
        description="Print per-domain performance samples (CPU, memory, disk, network, KVM "
                    "VM exits) for scripts. Connections are opened read-only.")
    add_connection_options(parser, "sample the shipped demo lab")
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--once", action="store_true", help="one sample, then exit")
    runs.add_argument("--iterations", metavar="N", type=positive_int,
                      help="N samples, then exit (default: until interrupted)")
    parser.add_argument("--interval", metavar="SECONDS",
                        type=seconds_in(MIN_INTERVAL_S, MAX_INTERVAL_S), default=1.0,
                        help=f"time between samples, {MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g} "
                             "(default: %(default)g)")
    add_exits_source_option(parser)
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="one JSON object per sample, one per line (the default)")
    out.add_argument("--csv", action="store_true", help="CSV with a header line")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from kvmtui.cli.connect import open_readonly, script_uris

    opened: list[Opened] = []
    for uri in script_uris(args.connect, args.demo):
        conn = open_readonly(uri)
        if conn is None:
            for o in opened:
                o.conn.close()
            return 1
        opened.append(Opened(conn.getURI(), conn))
    sampler = make_sampler(opened, args)
    iterations = 1 if args.once else args.iterations
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _loop(sampler, opened, iterations, args)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # `kvmtui top --csv | head` is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        for o in opened:
            o.conn.close()


def make_sampler(opened: list[Opened], args: argparse.Namespace):
    from kvmtui.virt.perf.stats import StatsSampler

    # every domain's full breakdown (by reason: JSON carries every counter), every sample;
    # the console reads it only for the VMs on screen
    return StatsSampler(lambda: opened, interval=args.interval,
                        exits_source=args.exits_source, detail_all=True)


def _loop(sampler, opened, iterations: int | None, args) -> int:
    from kvmtui.virt.perf.stats import explain_missing_exits

    writer = csv.writer(sys.stdout, lineterminator="\n") if args.csv else None
    reasons: dict[tuple, str | None] = {}  # (key, reason) -> sharper reason; one XML read each
    done = 0
    while iterations is None or done < iterations:
        started = time.monotonic()
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        rows = []
        for tick, o in zip(sampler.sample_once(), opened, strict=True):
            if tick.error:
                print(f"kvmtui top: {tick.uri}: {tick.error}", file=sys.stderr)
                return 1
            for stats in sorted(tick.stats.values(), key=lambda s: s.name):
                cache = (stats.key, stats.exits_unavailable_reason)
                if cache not in reasons:
                    reasons[cache] = explain_missing_exits(o.conn, stats)
                rows.append(sample_json(tick.uri, stats, reasons[cache]))
        done += 1
        if writer is not None:
            write_csv(writer, rows, now, done, header=done == 1)
        else:
            print(json.dumps({"time": now, "iteration": done, "interval": sampler.interval,
                              "domains": rows}, ensure_ascii=False))
        sys.stdout.flush()
        if iterations is None or done < iterations:
            time.sleep(max(0.0, started + sampler.interval - time.monotonic()))
    return 0


def _round(value: float | None, digits: int = 2) -> float | None:
    # JSON has no NaN or Infinity: a figure that is not a number is no figure
    return None if value is None or not math.isfinite(value) else round(value, digits)


def sample_json(uri: str, stats, reason: str | None) -> dict:
    exits = None
    if stats.exits is not None:
        from kvmtui.virt.perf.rates import ordered

        exits = {name: {"total": c.total, "rate": _round(c.rate)} for name, c in
                 ordered(stats.exits).items()}
    return {
        "name": stats.name, "uuid": stats.key.uuid, "uri": uri, "state": stats.state.word,
        "cpu_percent": _round(stats.cpu_percent),
        "vcpus": len(stats.vcpus) or None,
        "memory_kib": stats.memory_kib,
        "memory_used_kib": stats.memory_used_kib,
        "memory_used_source": stats.memory_used_source or None,
        "disk_read_bytes_per_s": _round(stats.disk_read_bps),
        "disk_write_bytes_per_s": _round(stats.disk_write_bps),
        "net_rx_bytes_per_s": _round(stats.net_rx_bps),
        "net_tx_bytes_per_s": _round(stats.net_tx_bps),
        "exits": exits,
        "exits_source": stats.exits_source,
        "exits_unavailable_reason": None if exits is not None else reason,
        # --exits-source debugfs: why the counters are libvirt's instead
        "exits_fallback_reason": stats.exits_unavailable_reason if exits is not None else None,
    }


CSV_FIELDS = ("name", "uuid", "uri", "state", "cpu_percent", "vcpus", "memory_kib",
              "memory_used_kib", "disk_read_bytes_per_s", "disk_write_bytes_per_s",
              "net_rx_bytes_per_s", "net_tx_bytes_per_s", "exits_source",
              "exits_unavailable_reason", "exits_fallback_reason")


def write_csv(writer, rows: list[dict], now: str, iteration: int, *, header: bool) -> None:
    from kvmtui.virt.perf.exitnames import CSV_REASONS

    if header:
        writer.writerow(["time", "iteration", *CSV_FIELDS,
                         *(f"exits_{r}{part}" for r in CSV_REASONS for part in ("", "_rate"))])
    for row in rows:
        exits = row["exits"] or {}
        cells = [now, iteration, *("" if row[f] is None else row[f] for f in CSV_FIELDS)]
        for reason in CSV_REASONS:
            counter = exits.get(reason)
            cells += ["", ""] if counter is None else \
                [counter["total"], "" if counter["rate"] is None else counter["rate"]]
        writer.writerow(cells)
