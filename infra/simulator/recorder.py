"""Record every notification the simulator sends as JSON lines: one SP-API notification
per line, exactly the SQS message body Amazon sends, which is what
``sellerops reprice replay --notifications FILE.jsonl`` reads (DESIGN.md §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from infra.simulator.notifications import dumps


class NotificationRecorder:
    """Append notifications to ``path`` (created, or truncated); ``None`` records nothing."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.lines = 0
        self._file: TextIO | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")

    def record(self, notification: dict[str, Any] | str) -> None:
        if self._file is None:
            return
        text = notification if isinstance(notification, str) else dumps(notification)
        self._file.write(text + "\n")
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> NotificationRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
