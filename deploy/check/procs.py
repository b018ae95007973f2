"""Process helpers: gunicorn's workers and their memory, read from /proc."""

import os
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is `pid` (gunicorn's workers, for its arbiter's pid)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process, or None once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Running, not gone and not a zombie (an exited process whose sockets are closed already,
    waiting for its parent, or for init once its parent died too, to collect it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
