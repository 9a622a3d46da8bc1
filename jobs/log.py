"""Progress and log lines for the nightly job.

Three modes: on a terminal, a live line per long step with its elapsed time;
otherwise plain `key=value` lines; with `--log-json`, one JSON object per line.
Everything goes to stderr, so stdout carries only the end-of-run summary.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO


class Log:
    def __init__(self, mode: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "tty" if self.stream.isatty() else "plain"
        self.mode = mode
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()

    def event(self, message: str, level: str = "info", **fields: Any) -> None:
        with self._lock:
            if self.mode == "json":
                record = {"time": _now(), "level": level, "message": message, **fields}
                self.stream.write(json.dumps(record, default=str) + "\n")
            else:
                extra = " ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
                prefix = "" if level == "info" else f"{level.upper()}: "
                line = f"{prefix}{message}" + (f"  {extra}" if extra else "")
                if self.mode == "tty":
                    self.stream.write("\r\033[K" + line + "\n")
                else:
                    self.stream.write(f"{_now()} {level} {line}\n")
            self.stream.flush()

    def warning(self, message: str, **fields: Any) -> None:
        self.event(message, level="warning", **fields)

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        """Time a step; show a live elapsed-time line on a terminal."""
        start = time.perf_counter()
        stop = threading.Event()
        ticker = None
        label = f"{name} {detail}".strip()
        if self.mode == "tty":
            ticker = threading.Thread(target=self._tick, args=(label, start, stop), daemon=True)
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker:
                ticker.join()
            seconds = time.perf_counter() - start
            self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
        self.event(f"{label} done", stage=name, seconds=round(seconds, 2))

    def _tick(self, label: str, start: float, stop: threading.Event) -> None:
        spinner = "|/-\\"
        i = 0
        while not stop.wait(0.25):
            with self._lock:
                elapsed = time.perf_counter() - start
                self.stream.write(f"\r\033[K{spinner[i % 4]} {label} ... {elapsed:5.1f}s")
                self.stream.flush()
            i += 1


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fmt(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text
