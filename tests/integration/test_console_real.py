"""`c` on real QEMU guests whose shell runs on the serial port: attach, run commands and a
full-screen program with real keys, leave with ctrl+], locally and through the remote driver;
and every case in which there is no console to attach to."""

from __future__ import annotations

import libvirt
import pytest
from build_test_guest import SHELL_PROMPT

from kvmtui.screens.confirm import ConfirmScreen
from kvmtui.screens.console import ConsoleScreen
from kvmtui.screens.guarded import GUARD_S
from kvmtui.widgets.terminal import TerminalView
from tests.helpers import asking, screen_text, select, wait_for
from tests.integration.conftest import RawConsole, running_kvmtui

# Keys typed before the console screen said what its keys do are never taken (GUARD_S): a user
# reads the offer first, and so do these tests.
SEEN = GUARD_S + 0.1


def shown(app) -> str:
    """The console's lines as the user reads them."""
    return "\n".join(app.screen.query_one(TerminalView).display_text())


async def type_line(pilot, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text], "enter")


async def attach(pilot, vm: str) -> ConsoleScreen:
    await select(pilot, vm)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConsoleScreen)
                   and pilot.app.screen.takes_all_keys, 10)
    return pilot.app.screen


async def prompt(pilot, timeout: float = 10) -> None:
    """Enter until the guest's prompt shows: the guest prints nothing while nobody listens."""
    for _ in range(int(timeout)):
        await pilot.press("enter")
        try:
            await wait_for(pilot, lambda: SHELL_PROMPT in shown(pilot.app), 1.0)
            return
        except AssertionError:
            continue
    raise AssertionError(f"no prompt; the screen shows:\n{shown(pilot.app)}")


@pytest.fixture
def booted_shell(hypervisor, shell_guest):
    hypervisor.virsh("start", shell_guest.name)
    shell_guest.wait_booted()
    return shell_guest


@pytest.mark.parametrize("remote", [False, True], ids=["socket", "remote-driver"])
async def test_attach_run_commands_and_leave(hypervisor, booted_shell, remote):
    uri = hypervisor.uri.replace("qemu:///", "qemu+unix:///", 1) if remote else hypervisor.uri
    async with running_kvmtui(uri, size=(80, 24)) as (app, pilot):
        screen = await attach(pilot, booted_shell.name)
        assert f"Console of {booted_shell.name}" in screen_text(app)
        assert "ctrl+] leaves" in screen_text(app)
        await prompt(pilot)
        await type_line(pilot, "echo $((6*7))")
        await wait_for(pilot, lambda: "\n42" in shown(app), 10)
        # ctrl+c goes to the guest, not to kvmtui: it interrupts the guest's sleep
        await type_line(pilot, "sleep 30")
        await pilot.pause(0.5)
        await pilot.press("ctrl+c")
        await type_line(pilot, "echo after-$((1+1))")
        await wait_for(pilot, lambda: "after-2" in shown(app), 10)
        assert app.is_running and app.screen is screen
        await pilot.press("ctrl+right_square_bracket")  # ctrl+] returns to the list
        await wait_for(pilot, lambda: app.screen is app.domain_list)


async def test_a_full_screen_program(hypervisor, booted_shell):
    async with running_kvmtui(hypervisor.uri, size=(80, 24)) as (app, pilot):
        await attach(pilot, booted_shell.name)
        await prompt(pilot)
        await type_line(pilot, "vi /tmp/note")
        await wait_for(pilot, lambda: "/tmp/note" in shown(app).splitlines()[-1], 10)
        assert shown(app).count("\n~") >= 10  # vi's empty lines, drawn with cursor addressing
        await pilot.pause(0.5)  # vi asks the terminal its size first; typing waits for that
        await pilot.press("i", *"kvmtui", "escape")
        await pilot.pause(0.3)  # vi reads a lone escape apart from what follows
        await pilot.press(*":wq", "enter")  # no alternate screen: vi's last frame stays above
        await type_line(pilot, "cat /tmp/note")
        await wait_for(pilot, lambda: "\nkvmtui" in shown(app), 10)
        # top does not ask the terminal its size (a serial line has none): told with stty, as
        # on any serial console (the title line leaves 23 rows at 80x24)
        await type_line(pilot, "stty rows 23 cols 80")
        await type_line(pilot, "top")  # q leaves top, not kvmtui
        await wait_for(pilot, lambda: shown(app).startswith("Mem:") and "PID" in shown(app), 10)
        await pilot.press("q")
        await type_line(pilot, "echo back")
        await wait_for(pilot, lambda: "\nback" in shown(app), 10)
        assert app.is_running


async def test_a_shut_off_vm_is_started_and_attached(hypervisor, shell_guest):
    async with running_kvmtui(hypervisor.uri, size=(80, 24)) as (app, pilot):
        await select(pilot, shell_guest.name)
        await pilot.press("c")
        await wait_for(pilot, lambda: "s starts it and attaches" in screen_text(app), 10)
        await pilot.pause(SEEN)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConsoleScreen)
                       and app.screen.takes_all_keys, 20)
        shell_guest.wait_booted()
        await prompt(pilot, 20)


async def test_a_console_in_use_is_taken_over_only_when_asked(hypervisor, booted_shell):
    other = RawConsole(hypervisor.uri, booted_shell.name)
    try:
        async with running_kvmtui(hypervisor.uri, size=(80, 24)) as (app, pilot):
            await select(pilot, booted_shell.name)
            await pilot.press("c")
            await wait_for(pilot, lambda: "in use by another client" in screen_text(app), 10)
            assert "Active console session exists" in screen_text(app)  # libvirt's words
            await pilot.pause(SEEN)
            await pilot.press("o")
            await wait_for(pilot, lambda: asking(app, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, ConsoleScreen)
                           and app.screen.takes_all_keys, 10)
            other.wait_ended(10)  # the other client was cut off
            await prompt(pilot)
    finally:
        other.close()


async def test_the_vm_stopping_keeps_the_last_screen(hypervisor, booted_shell):
    async with running_kvmtui(hypervisor.uri, size=(80, 24)) as (app, pilot):
        screen = await attach(pilot, booted_shell.name)
        await prompt(pilot)
        await type_line(pilot, "echo last-$((2*3))")
        await wait_for(pilot, lambda: "last-6" in shown(app), 10)
        hypervisor.virsh("destroy", booted_shell.name)
        await wait_for(pilot, lambda: "The console closed" in screen_text(app), 10)
        assert "last-6" in shown(app)  # still readable
        await wait_for(pilot, lambda: "s starts it and attaches" in screen_text(app), 10)
        assert app.screen is screen and not screen.takes_all_keys


async def test_read_only_refuses_in_one_line(hypervisor, booted_shell):
    async with running_kvmtui(hypervisor.uri, size=(80, 24), readonly=True) as (app, pilot):
        await select(pilot, booted_shell.name)
        await pilot.press("c")
        await wait_for(pilot, lambda: any("read-only connection" in n.message
                                          for n in app._notifications), 5)
        assert app.screen is app.domain_list
        assert libvirt.open(hypervisor.uri).lookupByName(booted_shell.name).isActive()


async def test_the_connection_dropping_is_said_and_attaching_again_offered(hypervisor, booted_shell):
    async with running_kvmtui(hypervisor.uri, size=(80, 24)) as (app, pilot):
        screen = await attach(pilot, booted_shell.name)
        await prompt(pilot)
        await type_line(pilot, "echo before-$((1+2))")
        await wait_for(pilot, lambda: "before-3" in shown(app), 10)
        hypervisor.daemon.kill()
        await wait_for(pilot, lambda: "The console closed" in screen_text(app), 10)
        assert "before-3" in shown(app)  # the last screen stays readable
        await pilot.pause(1.0)  # down for a moment, as a real restart is
        hypervisor.daemon.start()
        await wait_for(pilot, lambda: "connected again" in screen_text(app), 30)
        assert "a attaches again" in screen_text(app)
        await pilot.pause(SEEN)
        await pilot.press("a")  # never by itself: the user asks
        await wait_for(pilot, lambda: screen.takes_all_keys, 10)
        await prompt(pilot, 15)


async def test_a_vm_with_two_consoles_offers_them_by_name(hypervisor):
    from build_test_guest import HVC_PROMPT

    guest = hypervisor.define_shell_guest("two-consoles", consoles=2)
    try:
        hypervisor.virsh("start", guest.name)
        guest.wait_booted()
        async with running_kvmtui(hypervisor.uri, size=(80, 24)) as (app, pilot):
            await select(pilot, guest.name)
            await pilot.press("c")
            await wait_for(pilot, lambda: "console1 (virtio console 1)" in screen_text(app), 10)
            assert "serial0 (serial port 0)" in screen_text(app)
            await pilot.pause(SEEN)
            await pilot.press("down", "enter")  # the virtio console
            await wait_for(pilot, lambda: app.screen.takes_all_keys, 10)
            assert "· console1 ·" in screen_text(app)  # the title names the device
            for _ in range(10):
                await pilot.press("enter")
                await pilot.pause(1.0)
                if HVC_PROMPT in shown(app):
                    break
            assert HVC_PROMPT in shown(app)  # the shell on the guest's hvc0, not ttyS0
    finally:
        guest.remove()
