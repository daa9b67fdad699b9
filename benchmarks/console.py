#!/usr/bin/env python3
"""kvmtui's serial console against `virsh console`, side by side on the same guest, in one run.

A private libvirtd (scripts/private_libvirtd.py; as root the system daemon in a mount namespace
of its own: the host's domains are never seen) boots the integration tier's shell guest
(tests/integration/conftest.py, define_shell_guest: a busybox shell on ttyS0, a pty serial port;
QEMU TCG). Then, one after the other (the console takes one client at a time):

- kvmtui itself runs in a pseudo-terminal of 80x24 (`.venv/bin/kvmtui -c URI`, TERM
  xterm-256color). This script is its terminal: it reads the master as fast as it can and keeps
  what is displayed in a pyte screen of 80x24. It waits for the first paint, types `/`, the
  guest's name and enter (the list's filter), then `c`, waits for "Console of NAME" on the screen
  and presses enter until the guest's prompt shows;
- `virsh -c URI console NAME` runs in a pseudo-terminal of the same size, read the same way;
- a raw libvirt stream with no UI at all (the path kvmtui reads with, minus the UI: the
  guest's own pace), for reference.

For each:

- echo latency: one letter written to the pty master -> that letter displayed at its place
  after the prompt on the screen (kvmtui: drawn by Textual; virsh: echoed by the guest through
  virsh). 20 letters a line, then ctrl+u and a fresh prompt. A random pause of up to --gap
  seconds before each key, so keys do not lock onto a frame clock.
- bulk output: ENTER on `head -c N /dev/zero | base64 -w 76; echo DONE-$((40+2)); echo
  GUEST-DONE >&3` (fd 3: the guest's ttyS1, a file on the host) -> `DONE-42` displayed on the
  screen. When GUEST-DONE reaches the file the guest has finished printing, so "guest done ->
  shown" is how far the display trails the guest -- roughly: the guest's ttyS1 itself was seen
  to land up to ~0.2 s after DONE-42 (virsh's row then goes negative), so only a lag well over
  0.2 s means the display fell behind. CPU of the kvmtui (or virsh) process meanwhile, from
  psutil.

During the bulk output the script scans the bytes for `DONE-42` and parses them into the pyte
screen only on a hit (and once a second), so that its own parsing (pyte: ~1 MB/s) neither
slows the run on a small machine nor stands in for a terminal that would parse 5 MB in a blink;
the time taken is that of the read which brought the marker, confirmed on the pyte screen.

    .venv/bin/python benchmarks/console.py [--keys 50] [--mbytes 5] [--gap 0.05] [--quick]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import platform
import pty
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pyte

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_test_guest import SHELL_PROMPT, build, default_cache  # noqa: E402
from private_libvirtd import PrivateLibvirtd  # noqa: E402

from tests.integration.conftest import Guest, Hypervisor, RawConsole  # noqa: E402

COLS, ROWS = 80, 24
PROMPT = SHELL_PROMPT  # "guest# "
MARKER = "DONE-42"  # what `echo DONE-$((40+2))` prints; the command line itself never shows it
GUEST_DONE = b"GUEST-DONE"
KEYS_PER_LINE = 20
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# Defined first, so that the timed command line is short of the screen's width (a wrapped line
# is redrawn by the guest's line editor in ways that are no business of this benchmark).
# ttyS1 is opened before the output starts (opening a serial port can take the guest ~0.1 s).
BULK_FUNCTION = ("bulk() { { head -c $1 /dev/zero | base64 -w 76; echo DONE-$((40+2)); "
                 f"echo {GUEST_DONE.decode()} >&3; }} 3>/dev/ttyS1; }}")


def bulk_raw_bytes(mbytes: float) -> int:
    return int(mbytes * 1_000_000 * 3 / 4)  # base64 makes 4 characters of 3 bytes


def bulk_command(mbytes: float) -> str:
    return f"bulk {bulk_raw_bytes(mbytes)}"


def bulk_size(mbytes: float) -> int:
    """The bytes the guest prints: base64 lines of 76 characters, each ending in CR LF."""
    chars = -(-bulk_raw_bytes(mbytes) // 3) * 4
    return chars + 2 * -(-chars // 76) + len(MARKER) + 2


class Timeout(Exception):
    pass


# -- a process on a pseudo-terminal, this script being its terminal ---------------------------

class PtyTerminal:
    """argv on a pty of COLS x ROWS; its output is read as it comes and shown on a pyte screen.

    `data` keeps every byte; `screen` holds what is displayed, parsed up to `parsed` (parsing is
    lazy during a bulk output: see wait_bulk)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                os.execve(argv[0], argv, {**os.environ, **(env or {})})
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.process = psutil.Process(self.pid)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.data = bytearray()
        self.parsed = 0
        self.eof = False

    # reading

    def read(self, timeout: float) -> float | None:
        """Read what is there (waiting up to timeout): the time it arrived, or None."""
        if self.eof:
            return None
        if not select.select([self.fd], [], [], max(timeout, 0))[0]:
            return None
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:  # EIO: the other side closed
            chunk = b""
        now = time.perf_counter()
        if not chunk:
            self.eof = True
            return None
        self.data += chunk
        return now

    def parse(self) -> None:
        if self.parsed < len(self.data):
            self.stream.feed(bytes(self.data[self.parsed:]))
            self.parsed = len(self.data)

    def text(self) -> list[str]:
        self.parse()
        return self.screen.display

    def shows(self, text: str) -> bool:
        return any(text in line for line in self.text())

    def wait(self, ready: Callable[[], bool], timeout: float, what: str) -> float:
        """Read and parse until ready() holds: the arrival time of the read that made it so."""
        deadline = time.perf_counter() + timeout
        if ready():
            return time.perf_counter()
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or self.eof:
                raise Timeout(f"{what}: not shown within {timeout} s. Screen:\n"
                              + "\n".join(self.text()))
            at = self.read(left)
            if at is not None:
                self.parse()
                if ready():
                    return at

    def drain(self, seconds: float) -> None:
        """Read (and show) whatever comes for a while."""
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0 and not self.eof:
            self.read(left)
        self.parse()

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    # the guest's prompt

    def prompt_row(self) -> int | None:
        """The lowest screen line that starts with the guest's prompt."""
        for y, line in reversed(list(enumerate(self.text()))):
            if line.startswith(PROMPT):
                return y
        return None

    def prompt_column(self) -> int:
        return 0

    # the end

    def close(self, leave: Callable[[PtyTerminal], None] | None = None) -> None:
        """leave() asks it to quit as a user would; whatever still runs after 10 s is killed."""
        try:
            if leave is not None and not self.eof:
                try:
                    leave(self)
                except (OSError, Timeout):
                    pass
            deadline = time.perf_counter() + 10
            while not self.eof and time.perf_counter() < deadline:
                self.read(deadline - time.perf_counter())
        finally:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    done, _ = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                os.kill(self.pid, sig)
                for _ in range(50):
                    if os.waitpid(self.pid, os.WNOHANG)[0]:
                        break
                    time.sleep(0.02)
                else:
                    continue
                break
            os.close(self.fd)


# -- the three ways to the console -------------------------------------------------------------

class Way:
    name = ""
    term: PtyTerminal | None = None

    def check_keys(self) -> None:
        """Raise unless keys typed now go to the guest."""

    def cpu(self) -> float:
        """CPU seconds (user + system) of the client process so far."""
        if self.term is None:
            return 0.0
        times = self.term.process.cpu_times()
        return times.user + times.system


class Kvmtui(Way):
    name = "kvmtui"
    command = [str(ROOT / ".venv" / "bin" / "kvmtui")]
    env = {"TERM": "xterm-256color"}

    def __init__(self, uri: str, domain: str) -> None:
        began = time.perf_counter()
        self.term = term = PtyTerminal([*self.command, "-c", uri], self.env)
        try:
            term.wait(lambda: term.shows(domain), 30, f"kvmtui's list showing {domain}")
            self.first_paint = time.perf_counter() - began
            term.drain(0.3)
            term.send(b"/")
            term.drain(0.3)
            term.send(domain.encode())
            term.wait(lambda: sum(domain in line for line in term.text()) >= 2, 10,
                      "the filter typed")
            term.send(b"\r")
            term.drain(0.3)
            began = time.perf_counter()
            term.send(b"c")
            term.wait(lambda: term.shows(f"Console of {domain}"), 15, "the console screen")
            self.opened = time.perf_counter() - began
            # Not one key before it is attached: until then the screen's own keys act (r, d,
            # s are power keys there).
            term.wait(self.attached, 60, "the console attached")
            self.attached_after = time.perf_counter() - began
        except BaseException:
            term.close()
            raise

    def attached(self) -> bool:
        """The console screen attached: no "Reading…"/"Attaching…" text, and its footer of keys
        hidden (it shows only while the screen's own keys work)."""
        assert self.term is not None
        lines = self.term.text()
        return (lines[0].lstrip().startswith("Console of") and "esc Back" not in lines[-1]
                and not any(w in line for line in lines[1:4]
                            for w in ("Reading the consoles", "Attaching to")))

    def check_keys(self) -> None:
        if not self.attached():
            raise RuntimeError("kvmtui's console is not attached: no key is sent (the screen's "
                               "own keys would act). Screen:\n" + "\n".join(self.term.text()))

    def close(self) -> None:
        def leave(term: PtyTerminal) -> None:
            term.send(b"\x1d")  # ctrl+]: back to the list
            term.wait(lambda: not term.shows("Console of"), 10, "the list again")
            term.drain(0.2)
            term.send(b"q")
        if self.term is not None:
            self.term.close(leave)


class Virsh(Way):
    name = "virsh console"

    def __init__(self, uri: str, domain: str) -> None:
        self.term = term = PtyTerminal(["/usr/bin/virsh", "-c", uri, "console", domain])
        try:
            term.wait(lambda: term.shows("Escape character is"), 15, "virsh attached")
        except BaseException:
            term.close()
            raise

    def close(self) -> None:
        if self.term is not None:
            self.term.close(lambda term: term.send(b"\x1d"))  # ctrl+]: virsh detaches


class Raw(Way):
    """A non-blocking stream from virDomainOpenConsole, read on libvirt's event loop; no UI."""

    name = "raw stream"

    def __init__(self, uri: str, domain: str) -> None:
        self.console = RawConsole(uri, domain)

    def close(self) -> None:
        self.console.close()


# -- measurements on a terminal ----------------------------------------------------------------

class Session:
    """One way attached to the guest: prompts, echo, bulk output."""

    def __init__(self, way: Way, guest: Guest, gap: float) -> None:
        self.way = way
        self.guest = guest
        self.gap = gap
        self.asked = 0
        self.rng = random.Random(42)

    def fresh_prompt(self, timeout: float = 10) -> int:
        """ctrl+u, a unique echo, and its answer followed by a prompt: that prompt's row."""
        self.asked += 1
        answer = f"ready-{self.asked + 1}"
        self.send(f"\x15echo ready-$(({self.asked}+1))\r".encode())
        return self.wait_answer(answer, timeout)

    def first_prompt(self) -> float:
        """Enter until a prompt comes back (QEMU may take ~1 s to let input in after a detach)."""
        began = time.perf_counter()
        deadline = began + 20
        while True:
            try:
                self.fresh_prompt(timeout=1.0)
                return time.perf_counter() - began
            except (Timeout, AssertionError):
                if time.perf_counter() > deadline:
                    raise
                self.send(b"\r")

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def wait_answer(self, answer: str, timeout: float) -> int:
        raise NotImplementedError

    def echo(self, keys: int) -> list[float]:
        raise NotImplementedError

    def bulk(self, mbytes: float) -> dict[str, float]:
        raise NotImplementedError


class TerminalSession(Session):
    @property
    def term(self) -> PtyTerminal:
        assert self.way.term is not None
        return self.way.term

    def send(self, data: bytes) -> None:
        self.way.check_keys()
        self.term.send(data)

    def wait_answer(self, answer: str, timeout: float) -> int:
        term = self.term

        def ready() -> bool:
            lines = term.text()
            return any(lines[y].rstrip() == answer and lines[y + 1].startswith(PROMPT)
                       and not lines[y + 1][len(PROMPT):].strip() for y in range(ROWS - 1))
        term.wait(ready, timeout, f"the guest's answer {answer!r} and a prompt")
        row = term.prompt_row()
        assert row is not None
        return row

    def echo(self, keys: int) -> list[float]:
        term = self.term
        samples: list[float] = []
        row = self.fresh_prompt()
        col = len(PROMPT)
        for i in range(keys):
            if i and i % KEYS_PER_LINE == 0:
                row = self.fresh_prompt()
                col = len(PROMPT)
            key = LETTERS[i % len(LETTERS)]
            term.drain(self.rng.uniform(0, self.gap))
            x = col

            def shown(x: int = x, key: str = key) -> bool:
                term.parse()
                return term.screen.buffer[row][x].data == key
            self.way.check_keys()
            began = time.perf_counter()
            term.send(key.encode())
            at = term.wait(shown, 10, f"the echo of {key!r} at line {row}, column {x}")
            samples.append(at - began)
            col += 1
        self.fresh_prompt()
        return samples

    def bulk(self, mbytes: float) -> dict[str, float]:
        term = self.term
        command = bulk_command(mbytes)
        self.send(f"\x15{BULK_FUNCTION}\r".encode())
        row = self.fresh_prompt()
        self.send(command.encode())
        term.wait(lambda: term.text()[row].rstrip() == PROMPT + command, 10,
                  "the command line echoed")
        log = self.guest.serial
        assert log is not None
        log_at = log.stat().st_size
        guest_done: float | None = None
        start_bytes = len(term.data)
        self.way.check_keys()
        cpu = self.way.cpu()
        own = time.process_time()
        began = time.perf_counter()
        term.send(b"\r")
        deadline = began + 600
        scanned = len(term.data)
        parsed_at = began
        shown_at: float | None = None
        while shown_at is None:
            now = time.perf_counter()
            if now > deadline or term.eof:
                raise Timeout(f"{MARKER} not shown in 600 s: " + "\n".join(term.text()))
            at = term.read(0.005)
            if guest_done is None and log.stat().st_size > log_at:
                with log.open("rb") as f:
                    f.seek(log_at)
                    if GUEST_DONE in f.read():
                        guest_done = time.perf_counter()
            if at is None:
                continue
            hit = term.data.find(MARKER.encode(), max(scanned - len(MARKER), start_bytes)) >= 0
            scanned = len(term.data)
            if hit or at - parsed_at > 1.0:
                parsed_at = at
                if term.shows(MARKER):  # parses all there is
                    shown_at = at
        cpu = self.way.cpu() - cpu
        own = time.process_time() - own
        while guest_done is None and time.perf_counter() < deadline:
            with log.open("rb") as f:
                f.seek(log_at)
                if GUEST_DONE in f.read():
                    guest_done = time.perf_counter()
                    break
            time.sleep(0.005)
        size = bulk_size(mbytes)
        seconds = shown_at - began
        self.fresh_prompt()
        return {"seconds": seconds, "mb_s": size / 1e6 / seconds, "cpu": cpu, "own": own,
                "guest_seconds": (guest_done or shown_at) - began,
                "lag": shown_at - (guest_done or shown_at)}


class RawSession(Session):
    """The same measurements on the raw stream's bytes (no screen: the bytes are the echo)."""

    @property
    def console(self) -> RawConsole:
        assert isinstance(self.way, Raw)
        return self.way.console

    def send(self, data: bytes) -> None:
        self.console.send(data)

    def wait_answer(self, answer: str, timeout: float) -> int:
        try:
            self.console.wait_for(f"{answer}\r\n{PROMPT}".encode(), timeout,
                                  max(0, len(self.console.data) - 4096))
        except AssertionError as err:
            raise Timeout(str(err)) from None
        return 0

    def fresh_prompt(self, timeout: float = 10) -> int:
        mark = len(self.console.data)
        self.asked += 1
        self.send(f"\x15echo ready-$(({self.asked}+1))\r".encode())
        try:
            self.console.wait_for(f"ready-{self.asked + 1}\r\n{PROMPT}".encode(), timeout, mark)
        except AssertionError as err:
            raise Timeout(str(err)) from None
        return 0

    def echo(self, keys: int) -> list[float]:
        samples: list[float] = []
        self.fresh_prompt()
        for i in range(keys):
            if i and i % KEYS_PER_LINE == 0:
                self.fresh_prompt()
            key = LETTERS[i % len(LETTERS)].encode()
            time.sleep(self.rng.uniform(0, self.gap))
            mark = len(self.console.data)
            began = time.perf_counter()
            self.send(key)
            self.console.wait_for(key, 10, mark)
            samples.append(time.perf_counter() - began)
        self.fresh_prompt()
        return samples

    def bulk(self, mbytes: float) -> dict[str, float]:
        command = bulk_command(mbytes)
        self.send(f"\x15{BULK_FUNCTION}\r".encode())
        self.fresh_prompt()
        mark = len(self.console.data)
        self.send(command.encode())
        mark = self.console.wait_for(command.encode(), 10, mark)
        began = time.perf_counter()
        self.send(b"\r")
        self.console.wait_for(f"{MARKER}\r\n".encode(), 600, mark)
        seconds = time.perf_counter() - began
        size = bulk_size(mbytes)
        self.fresh_prompt()
        return {"seconds": seconds, "mb_s": size / 1e6 / seconds, "cpu": 0.0, "own": 0.0,
                "guest_seconds": seconds, "lag": 0.0}


# -- the run ---------------------------------------------------------------------------------

def measure(kind: type[Way], uri: str, guest: Guest, args: argparse.Namespace) -> dict:
    began = time.perf_counter()
    way = kind(uri, guest.name)
    attached = time.perf_counter() - began
    session: Session = RawSession(way, guest, args.gap) if isinstance(way, Raw) \
        else TerminalSession(way, guest, args.gap)
    try:
        first_prompt = session.first_prompt()
        echo = [s * 1000 for s in session.echo(args.keys)]
        bulk = session.bulk(args.mbytes)
    finally:
        way.close()
    result = {"attach": attached, "first_prompt": first_prompt, "echo": echo, **bulk}
    if isinstance(way, Kvmtui):
        result["first_paint"] = way.first_paint
        result["opened"] = way.opened
        result["attached_after"] = way.attached_after
    print(f"  {way.name}: done", file=sys.stderr, flush=True)
    return result


def conditions(uri: str, args: argparse.Namespace) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "?")
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    virsh = subprocess.run(["virsh", "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    size = bulk_size(args.mbytes)
    return [
        f"host: {cpu}, {os.cpu_count()} CPUs, load {load[0]:.2f} at the end; "
        f"Python {platform.python_version()}, {qemu}, virsh {virsh}",
        f"guest: the shell guest (busybox on ttyS0, a pty serial port), QEMU TCG (domain type "
        f"'qemu': no KVM), 1 vCPU, on a private libvirtd (its own socket: {uri})",
        f"terminals: {COLS}x{ROWS} pseudo-terminals read by this script (pyte screens); kvmtui "
        f"with TERM=xterm-256color",
        f"echo: {args.keys} letters per way, a random pause of 0-{args.gap * 1000:.0f} ms "
        f"before each; bulk: {size / 1e6:.2f} MB of base64 lines (76 characters + CR LF)",
    ]


def table(results: dict[str, dict]) -> list[str]:
    k, v, r = results["kvmtui"], results["virsh console"], results["raw stream"]

    def ms(x: float) -> str:
        return f"{x:.1f} ms"

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "-"

    rows = [("figure", "kvmtui", "virsh console", "ratio", "raw stream (no UI)")]
    for label, fraction in (("echo p50", 0.5), ("echo p95", 0.95)):
        a, b, c = (percentile(x["echo"], fraction) for x in (k, v, r))
        rows.append((f"{label} (key -> echoed on the pty)", ms(a), ms(b), ratio(a, b), ms(c)))
    a, b, c = (max(x["echo"]) for x in (k, v, r))
    rows.append(("echo max", ms(a), ms(b), ratio(a, b), ms(c)))
    a, b, c = (x["seconds"] for x in (k, v, r))
    rows.append(("bulk: enter -> DONE-42 shown", f"{a:.2f} s", f"{b:.2f} s", ratio(a, b),
                 f"{c:.2f} s"))
    a, b, c = (x["mb_s"] for x in (k, v, r))
    rows.append(("bulk: throughput", f"{a:.3f} MB/s", f"{b:.3f} MB/s", ratio(a, b),
                 f"{c:.3f} MB/s"))
    a, b = k["guest_seconds"], v["guest_seconds"]
    rows.append(("bulk: enter -> guest done (ttyS1)", f"{a:.2f} s", f"{b:.2f} s", ratio(a, b),
                 "-"))
    a, b = k["lag"], v["lag"]
    rows.append(("bulk: guest done (ttyS1, +-0.2 s) -> shown", ms(a * 1000), ms(b * 1000), "-", "-"))
    a, b = k["cpu"], v["cpu"]
    rows.append(("bulk: client CPU (user+sys, % of a core)",
                 f"{a:.2f} s ({100 * a / k['seconds']:.0f} %)",
                 f"{b:.2f} s ({100 * b / v['seconds']:.0f} %)", ratio(a, b), "-"))
    a, b = k["own"], v["own"]
    rows.append(("bulk: this script's CPU (reading the pty)",
                 f"{a:.2f} s ({100 * a / k['seconds']:.0f} %)",
                 f"{b:.2f} s ({100 * b / v['seconds']:.0f} %)", "-", "-"))
    b, c = v["attach"], r["attach"]
    rows.append(("kvmtui: start -> list painted; c -> title; c -> attached",
                 f"{k['first_paint'] * 1000:.0f}; {k['opened'] * 1000:.0f}; "
                 f"{k['attached_after'] * 1000:.0f} ms", "-", "-", "-"))
    rows.append(("virsh: start -> 'Escape character'; raw: open", "-", ms(b * 1000), "-",
                 ms(c * 1000)))
    a, b, c = (x["first_prompt"] for x in (k, v, r))
    rows.append(("attached: enter -> a prompt", ms(a * 1000), ms(b * 1000), "-", ms(c * 1000)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append(" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                              for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=50, help="keys timed per way (default 50)")
    parser.add_argument("--mbytes", type=float, default=5.0,
                        help="MB of output the guest prints (default 5)")
    parser.add_argument("--gap", type=float, default=0.05,
                        help="up to this many seconds of pause before each key (default 0.05)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 10 keys, 0.5 MB")
    args = parser.parse_args()
    if args.quick:
        args.keys, args.mbytes = min(args.keys, 10), min(args.mbytes, 0.5)
    guest_dir = build(default_cache())
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kvmtui-bench-") as tmp:
        daemon = PrivateLibvirtd(Path(tmp))
        uri = daemon.start()
        try:
            work = Path(tmp) / "guests"
            work.mkdir()
            hv = Hypervisor(daemon, guest_dir, work)
            guest = hv.define_shell_guest("console-bench")
            hv.virsh("start", guest.name)
            guest.wait_booted(1)
            print(f"guest booted; measuring kvmtui, virsh console, the raw stream "
                  f"({args.keys} keys, {args.mbytes} MB each)…", file=sys.stderr, flush=True)
            for kind in (Kvmtui, Virsh, Raw):
                results[kind.name] = measure(kind, uri, guest, args)
        finally:
            daemon.stop()
    for line in conditions(uri, args):
        print(line)
    print()
    for line in table(results):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
