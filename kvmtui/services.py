"""What a screen may ask of the app, typed: the one link from screens up to the app.

Screens never import the app (it imports them); they reach the app's shared parts through this
protocol, which KvmApp implements. Anything not listed here is the app's own business.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

if TYPE_CHECKING:  # annotations only: this module is imported at start-up
    from textual.app import App
    from textual.dom import DOMNode

    from kvmtui.virt.domain.actionlog import ActionLog
    from kvmtui.virt.domain.power import PowerAction
    from kvmtui.virt.models import Change, DomainKey, DomainStats, DomainSummary, StatsTick
    from kvmtui.virt.perf.figures import FleetFigures
    from kvmtui.virt.perf.stats import StatsSampler
    from kvmtui.virt.session.fleet import Fleet

T = TypeVar("T")


class AppServices(Protocol):
    action_log: ActionLog     # every action, recorded when it starts and when it ends
    sampler: StatsSampler     # its interval is what the screens say they refresh at
    figures: FleetFigures     # the latest figures and their history, one store for all
    fleet_feed: Feed[Change]         # what connections report, for screens that follow VMs
    stats_feed: Feed[StatsTick]      # each connection's new figures
    fleet: Fleet                     # the connections (and whether they are read-only)
    refresh_steps: tuple[float, ...]  # the intervals `+` and `-` step through, in seconds
    config_path: Path                # the config file: where `H` saves and removes hosts

    def set_activity(self, key: DomainKey, text: str | None) -> None:
        """Show on the VM's row what is under way ("reverting to 's1'…"); None: nothing."""

    def latest_stats(self, uri: str) -> list[DomainStats]:
        """The last figures of every VM of a connection (empty before the first tick)."""

    def vm_counts(self, uri: str) -> tuple[int, int]:
        """(running, total) VMs of a connection, as the list knows them."""

    def power_actions(self, summary: DomainSummary) -> set[PowerAction]:
        """What a power key may ask of this VM now: the list's rules, on every screen."""

    def request_power(self, summary: DomainSummary, action: PowerAction) -> None:
        """A power key pressed on a VM's screen: asked, recorded and shown as on the list."""

    def explain_power_key(self, summary: DomainSummary, key: str) -> bool:
        """Say why a power key does nothing for this VM now; True when the key was one."""

    def set_refresh_interval(self, seconds: float) -> None:
        """Sample the figures every `seconds` from now on (and say so)."""

    def show_vm(self, kind: str, summary: DomainSummary, *, replace: bool = True) -> None:
        """Another screen about the VM ("details", "snapshots", "performance", "console"), in
        place of the current one (replace=False: on top of it)."""


def services(app: App[Any]) -> AppServices:
    return cast(AppServices, app)


class Feed(Generic[T]):
    """What the app publishes (fleet changes, stats ticks) to the screens that subscribed while
    mounted; unlike a Textual Signal, a subscriber's error is not swallowed."""

    def __init__(self) -> None:
        self._subscribers: dict[DOMNode, Callable[[T], None]] = {}

    def subscribe(self, node: DOMNode, callback: Callable[[T], None]) -> None:
        self._subscribers[node] = callback

    def unsubscribe(self, node: DOMNode) -> None:
        self._subscribers.pop(node, None)

    def publish(self, data: T) -> None:
        for node, callback in list(self._subscribers.items()):
            if node.is_attached:
                callback(data)
