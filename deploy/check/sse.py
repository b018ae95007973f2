"""A small Server-Sent Events client on asyncio, light enough to hold a thousand streams in one
process (make deploy-test, make bench). HTTP/1.0, so the body comes unchunked and ends with the
connection."""

import asyncio
import contextlib
import json
import time


class StreamRefused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"{status}: {body[:200]!r}")
        self.status, self.body = status, body


class SseStream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        # Every event and comment as it arrives: (time.monotonic(), event name or None, id, data).
        self.received: list[tuple[float, str | None, str | None, object]] = []
        self.closed = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task | None = None

    @classmethod
    async def open(
        cls, host: str, port: int, path: str, headers: dict[str, str] | None = None
    ) -> "SseStream":
        """Open a stream; StreamRefused for any answer but 200."""
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        lines = [f"GET {path} HTTP/1.0", f"Host: {host}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = int((await reader.readline()).split()[1])
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        if status != 200:
            body = await reader.read()
            writer.close()
            raise StreamRefused(status, body)
        stream = cls(reader, writer)
        stream._task = asyncio.get_running_loop().create_task(stream._read())
        return stream

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            while line := await self.reader.readline():
                line = line.decode().rstrip("\r\n")
                if line.startswith(":"):
                    await self._arrive((time.monotonic(), None, None, line[1:].strip()))
                elif line:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
                elif fields:
                    data = json.loads(fields.get("data", "null"))
                    await self._arrive(
                        (time.monotonic(), fields.get("event", "message"), fields.get("id"), data)
                    )
                    fields = {}
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed.set()
            async with self._arrived:
                self._arrived.notify_all()

    async def _arrive(self, item) -> None:
        self.received.append(item)
        async with self._arrived:
            self._arrived.notify_all()

    async def wait_for(self, predicate, *, timeout: float):
        """The first received item matching `predicate(item)`, waiting up to `timeout` seconds."""

        async def found():
            async with self._arrived:
                while True:
                    for item in self.received:
                        if predicate(item):
                            return item
                    if self.closed.is_set():
                        raise ConnectionError("the stream ended")
                    await self._arrived.wait()

        return await asyncio.wait_for(found(), timeout)

    def events(self, name: str) -> list:
        return [item for item in self.received if item[1] == name]

    async def close(self) -> None:
        self.writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
