#!/usr/bin/env python3
"""A private libvirtd: its own run, state, config, cache and log directories and its own socket.

It never sees the host's own VMs, networks or configuration, needs no virtlogd, and is reached
with a `?socket=` URI. As root it runs the system daemon inside a private mount namespace
(`unshare --mount`) with bind mounts over /run/libvirt, /var/lib/libvirt, /etc/libvirt,
/var/log/libvirt and /var/cache/libvirt; as any other user it runs a session daemon with
private XDG directories. Stopping it destroys its guests and ends only its own processes.

    scripts/private_libvirtd.py start DIR     start it (prints the URI)
    scripts/private_libvirtd.py stop DIR      destroy its guests, stop it
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

MOUNTS = {  # private subdirectory -> where the system daemon expects it
    "run": "/run/libvirt",
    "lib": "/var/lib/libvirt",
    "etc": "/etc/libvirt",
    "log": "/var/log/libvirt",
    "cache": "/var/cache/libvirt",
}

QEMU_CONF = """\
# private test daemon: QEMU's output goes to files (no virtlogd), guests run as root
stdio_handler = "file"
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
"""

LIBVIRTD_CONF = """\
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:stderr"
"""


class Unavailable(Exception):
    """The private daemon cannot run here; the message says exactly why."""


class PrivateLibvirtd:
    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory).resolve()
        self.root = os.geteuid() == 0
        self.process: subprocess.Popen | None = None

    # -- where things are -------------------------------------------------------------------

    @property
    def socket(self) -> Path:
        if self.root:
            return self.dir / "run" / "libvirt-sock"
        return self.dir / "xdg-run" / "libvirt" / "libvirt-sock"

    @property
    def uri(self) -> str:
        kind = "system" if self.root else "session"
        return f"qemu:///{kind}?socket={self.socket}"

    @property
    def log(self) -> Path:
        return self.dir / "libvirtd.stderr"

    @property
    def pid_file(self) -> Path:
        return self.dir / "libvirtd.pid"

    # -- lifetime -----------------------------------------------------------------------------

    def check(self) -> None:
        """Raise Unavailable with the exact reason when the daemon cannot start here."""
        for tool in ("libvirtd", "qemu-system-x86_64", "qemu-img"):
            if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
                raise Unavailable(f"{tool} is not installed (Debian: apt-get install "
                                  "libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils)")
        if self.root and not shutil.which("unshare"):
            raise Unavailable("unshare (util-linux) is not installed")

    def _write_config(self) -> None:
        if self.root:
            for sub in MOUNTS:
                (self.dir / sub).mkdir(parents=True, exist_ok=True)
            (self.dir / "etc" / "qemu.conf").write_text(QEMU_CONF)
            (self.dir / "etc" / "libvirtd.conf").write_text(LIBVIRTD_CONF)
        else:
            for sub in ("xdg-config/libvirt", "xdg-run", "xdg-cache", "xdg-data"):
                (self.dir / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(self.dir / "xdg-run", 0o700)
            (self.dir / "xdg-config" / "libvirt" / "qemu.conf").write_text('stdio_handler = "file"\n')
            (self.dir / "xdg-config" / "libvirt" / "libvirtd.conf").write_text('log_outputs = "3:stderr"\n')

    def _command(self) -> tuple[list[str], dict[str, str]]:
        libvirtd = shutil.which("libvirtd", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        env = dict(os.environ)
        if self.root:
            binds = " && ".join(
                f"mkdir -p {target} && mount --bind {self.dir / sub} {target}"
                for sub, target in MOUNTS.items())
            script = (f"mount --make-rprivate / && {binds} && "
                      f"exec {libvirtd} --pid-file {self.pid_file}")
            return ["unshare", "--mount", "--", "sh", "-c", script], env
        env.update(XDG_CONFIG_HOME=str(self.dir / "xdg-config"),
                   XDG_RUNTIME_DIR=str(self.dir / "xdg-run"),
                   XDG_CACHE_HOME=str(self.dir / "xdg-cache"),
                   XDG_DATA_HOME=str(self.dir / "xdg-data"))
        return [libvirtd, "--timeout", "0", "--pid-file", str(self.pid_file)], env

    def start(self, timeout: float = 30.0) -> str:
        self.check()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        command, env = self._command()
        log = open(self.log, "ab")
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Unavailable(f"libvirtd exited with status {self.process.returncode}: "
                                  + self._log_tail())
            if self.socket.exists() and self._answers():
                self._namespace()
                return self.uri
            time.sleep(0.05)
        self.kill()
        raise Unavailable(f"libvirtd did not answer on {self.socket} within {timeout:g} s: "
                          + self._log_tail())

    def _answers(self) -> bool:
        result = subprocess.run(["virsh", "-q", "-c", self.uri, "uri"], capture_output=True,
                                timeout=10, stdin=subprocess.DEVNULL)
        return result.returncode == 0

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:]) or "(empty log)"

    def daemon_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return self.process.pid if self.process and self.process.poll() is None else None

    def kill(self) -> None:
        """SIGKILL the daemon only (its guests keep running, as after a crash)."""
        pid = self.daemon_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.pid_file.unlink(missing_ok=True)

    def stop(self) -> None:
        """Destroy this daemon's guests, stop it, and end any of its QEMU processes left."""
        if self.socket.exists():
            subprocess.run(["sh", "-c", f"for d in $(virsh -q -c '{self.uri}' list --name); do "
                                        f"virsh -q -c '{self.uri}' destroy $d; done"],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        pid = self.daemon_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.05)
            else:
                self.kill()
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for pid in self.own_qemu_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pid_file.unlink(missing_ok=True)

    def own_qemu_pids(self) -> list[int]:
        """QEMU processes of this daemon: named by its pid files, or living in its mount namespace."""
        mine = set()
        pid_files = [*self.dir.glob("run/qemu/*.pid"), *self.dir.glob("xdg-run/libvirt/qemu/run/*.pid")]
        for pid_file in pid_files:
            try:
                mine.add(int(pid_file.read_text().strip()))
            except (OSError, ValueError):
                pass
        namespace = self._namespace()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if namespace and os.readlink(entry / "ns" / "mnt") == namespace \
                        and b"qemu-system" in (entry / "cmdline").read_bytes():
                    mine.add(int(entry.name))
            except OSError:
                continue
        return sorted(pid for pid in mine if _alive(pid) and _is_qemu(pid))

    def _namespace(self) -> str | None:
        """The daemon's private mount namespace (root mode), remembered across its restarts."""
        record = self.dir / "mount-namespace"
        if not self.root:
            return None
        pid = self.daemon_pid()
        if pid is not None:
            try:
                namespace = os.readlink(f"/proc/{pid}/ns/mnt")
                if namespace != os.readlink("/proc/self/ns/mnt"):
                    record.write_text(namespace)
                    return namespace
            except OSError:
                pass
        try:
            return record.read_text().strip() or None
        except OSError:
            return None


def _is_qemu(pid: int) -> bool:
    try:
        return b"qemu-system" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    daemon = PrivateLibvirtd(Path(argv[1]))
    if argv[0] == "start":
        try:
            print(daemon.start())
        except Unavailable as err:
            print(f"private libvirtd: {err}", file=sys.stderr)
            return 1
        return 0
    daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
