"""A throwaway OpenSSH server on 127.0.0.1, so that libvirt's ssh transport is tested for real.

Everything it needs lives in its work directory: an ed25519 host key, a client key without a
passphrase, an authorized_keys file holding that client key, and an sshd_config that allows
only that key on a free port of 127.0.0.1. It runs `/usr/sbin/sshd -D -e` as a child process,
never a system ssh service, and reaches the private libvirtd as a remote host is reached:

    qemu+ssh://root@127.0.0.1:PORT/system?socket=…&keyfile=…&no_verify=1&proxy=netcat

`no_verify=1` makes ssh accept the unknown host key, and ssh then records it in the user's
~/.ssh/known_hosts; stop() takes exactly those lines (the ones holding this server's host key,
generated here) out again, and whatever ssh created for them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

SSHD = "/usr/sbin/sshd"
HOST = "127.0.0.1"


class SshdUnavailable(Exception):
    """sshd, ssh, ssh-keygen or nc is missing here; the message says which and what to install."""


def check() -> None:
    """Raise SshdUnavailable with the exact reason when the local sshd cannot be used here."""
    if not os.access(SSHD, os.X_OK):
        raise SshdUnavailable(f"{SSHD} is not installed (Debian: apt-get install openssh-server)")
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise SshdUnavailable(f"{tool} is not installed (Debian: apt-get install "
                                  "openssh-client)")
    nc = shutil.which("nc")
    if nc is None:
        raise SshdUnavailable("nc is not installed: libvirt's ssh transport needs it on the "
                              "remote side (Debian: apt-get install netcat-openbsd)")
    usage = subprocess.run([nc, "-h"], capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
    if "-U" not in usage.stdout + usage.stderr:
        raise SshdUnavailable(f"{nc} cannot connect to unix sockets (no -U), which libvirt's "
                              "ssh transport needs (Debian: apt-get install netcat-openbsd)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LocalSshd:
    """sshd on a free port of 127.0.0.1 that lets in the current user with its own client key."""

    def __init__(self, workdir: Path) -> None:
        self.dir = Path(workdir).resolve()
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._home_ssh = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh"
        self._had_home_ssh = self._home_ssh.exists()
        self._had_known_hosts = (self._home_ssh / "known_hosts").exists()

    # -- where things are -------------------------------------------------------------------

    @property
    def host_key(self) -> Path:
        return self.dir / "ssh_host_ed25519_key"

    @property
    def client_key(self) -> Path:
        return self.dir / "client_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.dir / "authorized_keys"

    @property
    def config(self) -> Path:
        return self.dir / "sshd_config"

    @property
    def log(self) -> Path:
        return self.dir / "sshd.stderr"

    def uri(self, socket: str, path: str = "system") -> str:
        """The qemu+ssh URI of the libvirtd listening on `socket` on this machine, through sshd.

        no_tty=1 makes ssh fail at once, rather than ask for a password, should the key ever
        be refused.
        """
        assert self.port is not None, "start() the sshd first"
        query = "&".join(f"{name}={quote(str(value), safe='/')}" for name, value in (
            ("socket", socket), ("keyfile", self.client_key), ("no_verify", 1),
            ("no_tty", 1), ("proxy", "netcat")))
        return f"qemu+ssh://{self.user}@{HOST}:{self.port}/{path}?{query}"

    def ssh_command(self, *command: str) -> list[str]:
        """ssh to this server as the tests do, leaving ~/.ssh/known_hosts alone."""
        return ["ssh", "-i", str(self.client_key), "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-p", str(self.port),
                f"{self.user}@{HOST}", *command]

    # -- lifetime -----------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> LocalSshd:
        check()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._keys()
        # sshd refuses to start without its privilege separation directory
        with contextlib.suppress(PermissionError):
            Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        for attempt in range(3):  # another process may take the free port before sshd binds it
            self.port = free_port()
            self._write_config()
            with open(self.log, "wb") as log:
                self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.config)],
                                                stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=log, start_new_session=True)
            try:
                self._wait_ready(timeout)
                return self
            except RuntimeError:
                bind_lost = "Address already in use" in self._log_text()
                self.stop()
                if not bind_lost or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _keys(self) -> None:
        for key, comment in ((self.host_key, "kvmtui-test-host"),
                             (self.client_key, "kvmtui-test-client")):
            if not key.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                                "-f", str(key)], check=True, capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=30)
        self.authorized_keys.write_text(self.client_key.with_suffix(".pub").read_text())
        os.chmod(self.authorized_keys, 0o600)

    def _write_config(self) -> None:
        self.config.write_text(f"""\
Port {self.port}
ListenAddress {HOST}
HostKey {self.host_key}
AuthorizedKeysFile {self.authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile {self.dir / 'sshd.pid'}
LogLevel ERROR
""")

    def _wait_ready(self, timeout: float) -> None:
        """Until the port accepts and an ssh with the client key runs `true` there."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with status {self.process.returncode}: "
                                   f"{self._log_text() or '(no output)'}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    pass
            except OSError as err:
                last = f"port {self.port}: {err}"
                time.sleep(0.05)
                continue
            try:
                probe = subprocess.run(self.ssh_command("true"), capture_output=True, text=True,
                                       timeout=max(1.0, deadline - time.monotonic()),
                                       stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                last = "ssh true did not finish"
                break
            if probe.returncode == 0:
                return
            last = f"ssh true: status {probe.returncode}: {probe.stderr.strip()}"
            time.sleep(0.1)
        raise RuntimeError(f"sshd on {HOST}:{self.port} did not let the test key in within "
                           f"{timeout:g} s ({last}); sshd said: "
                           f"{self._log_text() or '(nothing)'}")

    def _log_text(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            self.process = None
        self._forget_host_key()

    def _forget_host_key(self) -> None:
        """Take this server's host key out of ~/.ssh/known_hosts, where no_verify=1 put it."""
        known = self._home_ssh / "known_hosts"
        pub = self.host_key.with_suffix(".pub")
        if not known.exists() or not pub.exists():
            return
        blob = pub.read_text().split()[1]
        lines = known.read_text().splitlines(keepends=True)
        kept = [line for line in lines if blob not in line.split()]
        if len(kept) != len(lines):
            known.write_text("".join(kept))
        if not self._had_known_hosts and not kept:
            known.unlink()
            if not self._had_home_ssh:
                with contextlib.suppress(OSError):
                    self._home_ssh.rmdir()

    def __enter__(self) -> LocalSshd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
