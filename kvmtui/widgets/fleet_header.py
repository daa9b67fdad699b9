"""Two lines above the list: domain counts, then the connections, sort order and filter."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import Static

from kvmtui.virt.models import ConnectionChanged, ConnectionStatus, DomainState, DomainSummary
from kvmtui.virt.session.hoststate import state_words
from kvmtui.virt.session.uris import display_uri

# Always shown, even at zero, as `1000 domains · 500 running · 0 paused` reads.
_MAIN_STATES = (DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF)
_OTHER_STATES = (DomainState.CRASHED, DomainState.SHUTDOWN, DomainState.PMSUSPENDED,
                 DomainState.BLOCKED, DomainState.NOSTATE)


def count_line(summaries: Iterable[DomainSummary], shown: int | None = None,
               disconnected: Iterable[str] = ()) -> str:
    # A disconnected host's VMs are in an unknown state, not in their last one.
    lost = set(disconnected)
    counts: Counter = Counter()
    unknown = 0
    for s in summaries:
        if s.key.uri in lost:
            unknown += 1
        else:
            counts[s.state] += 1
    total = sum(counts.values()) + unknown
    parts = [f"{total} domain{'' if total == 1 else 's'}"]
    parts += [f"{counts.get(state, 0)} {state.word}" for state in _MAIN_STATES]
    if unknown:
        parts.append(f"{unknown} disconnected")
    # the rest by urgency, so a narrow terminal cuts 'idle' before it cuts 'crashed'
    parts += [f"{counts[state]} {state.word}" for state in _OTHER_STATES if counts.get(state)]
    line = " · ".join(parts)
    if shown is not None and shown != total:
        line += f"   (showing {shown})"
    return line


class FleetHeader(Static):
    """Counts of the whole fleet and where it comes from; never a clock (screenshots stay fixed)."""

    DEFAULT_CSS = """
    FleetHeader {
        height: 2; padding: 0 1; background: $panel; color: $foreground;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def update_from(self, summaries: Iterable[DomainSummary], *, shown: int,
                    hosts: Sequence[tuple[str, ConnectionChanged]], now: float,
                    sort_label: str, filter_text: str, readonly: bool, marked: int = 0,
                    marked_hidden: int = 0) -> None:
        """hosts: (name, state) of every connection; `now` (monotonic) words their waits."""
        lost = [state.uri for _, state in hosts if state.status is not ConnectionStatus.CONNECTED]
        first = Text()
        if marked:  # first: a narrow terminal cuts the end of the line
            first.append(f"● {marked} marked", style="bold reverse")
            if marked_hidden:
                first.append(f" ({marked_hidden} not shown)", style="bold")
            first.append("  ")
        first.append(count_line(summaries, shown, lost), style="bold")
        second = hosts_text(hosts, now)
        if readonly:
            second.append("  read-only", style="bold")
        second.append(f"  sort: {sort_label} (o)")
        if filter_text:
            second.append(f"  filter: {filter_text}", style="bold")
        self.update(Text.assemble(first, "\n", second))


def hosts_text(hosts: Sequence[tuple[str, ConnectionChanged]], now: float) -> Text:
    """One host: its URI, and its state unless connected. Several: the ones not connected
    first, by name and state (a narrow terminal cuts the end), then how many are."""
    text = Text()
    if len(hosts) == 1:
        ((_, state),) = hosts
        text.append(display_uri(state.uri))
        if state.status is not ConnectionStatus.CONNECTED:
            text.append(f" [{state_words(state, now)}]", style="bold reverse")
        return text
    if not hosts:
        return Text("no hosts: H to add one", style="bold")
    for name, state in hosts:
        if state.status is not ConnectionStatus.CONNECTED:
            text.append(f"{name} {state_words(state, now, reason=False)}", style="bold reverse")
            text.append(" · ")
    connected = [name for name, state in hosts if state.status is ConnectionStatus.CONNECTED]
    if len(connected) == len(hosts):
        text.append(f"hosts: {', '.join(connected)} (H)")
    else:
        text.append(f"{len(connected)} of {len(hosts)} connected: {', '.join(connected)} (H)")
    return text
