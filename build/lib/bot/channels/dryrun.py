"""Without credentials: nothing leaves the machine; messages are recorded as simulated."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bot.channels.base import Found, OutboundMessage, SendResult


@dataclass
class DryRunSender:
    sent: list[OutboundMessage] = field(default_factory=list)

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult("SM" + hashlib.sha256(message.ref.encode()).hexdigest()[:32], "simulated")

    async def recent(self, to: str) -> list[Found]:
        return []  # nothing left the machine: sending again only records again

    async def close(self) -> None:
        return None
