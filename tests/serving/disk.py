"""Watching nginx's temporary folders for a body or a response written to disk.

nginx opens such a file and unlinks it at once (ngx_open_tempfile, non-persistent files), so a plain
listing afterwards can miss it. Three signs are watched instead, any one of which shows a write:
- a file of nginx's worker processes open under the temporary folder (``/proc/PID/fd``, polled);
- a temporary folder whose modification time changed (creating or unlinking a file changes it);
- nginx's own warning, "... is buffered to a temporary file" (logged at the ``warn`` level).
The control tests make nginx write on purpose and check that the watch sees it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ops.serving.loopback import TEMP_FOLDERS, Proxy

NGINX_WARNINGS = ("a client request body is buffered to a temporary file",
                  "an upstream response is buffered to a temporary file")


@dataclass
class DiskEvidence:
    open_files: set[str] = field(default_factory=set)
    changed_folders: list[str] = field(default_factory=list)
    files_left: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return bool(self.open_files or self.changed_folders or self.files_left or self.warnings)


class TempFolderWatch:
    """Start before the requests, stop after them: ``evidence`` then says whether nginx wrote anything."""

    def __init__(self, proxy: Proxy, *, poll_seconds: float = 0.01) -> None:
        self.proxy = proxy
        self.poll_seconds = poll_seconds
        self.evidence = DiskEvidence()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._log_offset = 0
        self._times: dict[str, int] = {}

    def __enter__(self) -> "TempFolderWatch":
        temp = self.proxy.temp_folder
        self._times = {name: (temp / name).stat().st_mtime_ns for name in TEMP_FOLDERS}
        self._log_offset = self.proxy.log_path.stat().st_size
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        temp = self.proxy.temp_folder
        for name in TEMP_FOLDERS:
            folder = temp / name
            if folder.stat().st_mtime_ns != self._times[name]:
                self.evidence.changed_folders.append(name)
            self.evidence.files_left += [str(path) for path in folder.rglob("*")]
        with open(self.proxy.log_path, "rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode(errors="replace")
        self.evidence.warnings = [line for line in text.splitlines() if any(w in line for w in NGINX_WARNINGS)]

    def _poll(self) -> None:
        prefix = str(self.proxy.temp_folder) + os.sep
        while not self._stop.wait(self.poll_seconds):
            for pid in self.proxy.worker_pids():
                descriptors = Path(f"/proc/{pid}/fd")
                try:
                    names = os.listdir(descriptors)
                except OSError:
                    continue
                for name in names:
                    try:
                        target = os.readlink(descriptors / name)
                    except OSError:
                        continue
                    if target.startswith(prefix):
                        self.evidence.open_files.add(target)
