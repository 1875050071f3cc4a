"""A small progress bar on stderr: redrawn in place on a terminal, a line every tenth otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Shows ``[####....] 120/2000 loss 2.31 | 41k tok/s | eta 1m20s``.

    Args:
        total: the last step number.
        stream: where to write (default ``sys.stderr``, looked up when made).
        enabled: draw no bar when false (:meth:`message` lines are still written).
        start: the step the run starts from (resumed runs).
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True, start: int = 0) -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.start = start
        self._began = time.perf_counter()
        self._last_draw = 0.0
        self._last_tenth = -1

    def update(self, step: int, text: str) -> None:
        """Show progress at ``step`` with the extra ``text`` (loss, throughput)."""
        if not self.enabled:
            return
        done = step - self.start
        elapsed = time.perf_counter() - self._began
        remaining = elapsed / done * (self.total - step) if done > 0 else 0.0
        line = f"{step}/{self.total} {text} | eta {_duration(remaining)}"
        if self.tty:
            now = time.perf_counter()
            if now - self._last_draw < 0.1 and step != self.total:
                return
            self._last_draw = now
            width = 24
            filled = int(width * step / self.total)
            self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {line}")
        else:
            tenth = 10 * step // self.total
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line (an evaluation result) without breaking the bar (printed even with the bar off)."""
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(f"{prefix}{text}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
