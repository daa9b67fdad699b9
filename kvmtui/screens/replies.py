"""How a thread worker answers its screen: by posting a message, and only while it is wanted."""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker


def reply(target: MessagePump, message: Message) -> None:
    """Post the worker's result, unless the worker was cancelled (its screen left, or a newer
    run of the same exclusive worker replaced it): a stale answer is dropped, never shown."""
    if not get_current_worker().is_cancelled:
        target.post_message(message)
