"""What the details and `x` screens read for their advice, in their thread workers: the VM's
XML and state and its host's facts (blocking libvirt calls, reads only), and the message that
brings them back. The figures are the screen's own (the latest tick), joined on the UI thread."""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.message import Message

from kvmtui.virt.advice import Finding, HostFacts, Inputs, advise, inputs_from_xml
from kvmtui.virt.advice.reading import read_host, read_inputs
from kvmtui.virt.models import DomainKey, DomainState, DomainStats
from kvmtui.virt.session.fleet import Fleet


@dataclass
class AdviceRead(Message):
    """A VM's advice inputs without figures (None, with libvirt's words, when it failed)."""

    key: DomainKey
    inputs: Inputs | None
    error: str | None = None


def read_advice_inputs(fleet: Fleet, key: DomainKey, xml: str | None = None,
                       state: DomainState | None = None) -> Inputs:
    """Blocking: the host's facts, and the VM's XML and state unless given. Reads only."""
    with fleet.connection(key.uri).using() as conn:  # a reconnect closes it after, not during
        host: HostFacts = read_host(conn, key.uri)
    if xml is not None:
        return inputs_from_xml(xml, None, host, state)
    return read_inputs(fleet.domain(key), None, host)


def with_stats(inputs: Inputs, stats: DomainStats | None) -> Inputs:
    """The inputs with this tick's figures; the state then follows the figures."""
    if stats is None:
        return inputs
    return replace(inputs, stats=stats, state=stats.state)


def advise_with(inputs: Inputs, stats: DomainStats | None) -> list[Finding]:
    return advise(with_stats(inputs, stats))
