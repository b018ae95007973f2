"""Process helpers: gunicorn's workers, memory and connections, read from /proc; and a free
loopback port for a process to listen on."""

import os
import socket
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    """A loopback port nothing listens on now (the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def tcp_connections(pid: int, remote_port: int) -> int:
    """Established TCP connections of a process to `remote_port` (a database's, say)."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0
    for fd in fds:
        try:
            link = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    count = 0
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and port == remote_port and fields[9] in inodes:
                count += 1
    return count
