"""A TCP proxy on 127.0.0.1 that a test can cut: every connection through it is closed at once and new
ones are refused until it is restored, as clients see an API server restart. TLS passes through
untouched (the proxy only copies bytes), so the client still checks the API server's certificate."""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttableProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.open = True
        self.cuts = 0
        self.connections = 0  # accepted while open, over the proxy's life
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()  # the API server is "down": the connection is refused at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._live.update((client, upstream))
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._live.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> int:
        """Close every connection and refuse new ones; how many connections were cut."""
        self.open = False
        self.cuts += 1
        with self._lock:
            live = list(self._live)
        for sock in live:
            self._close(sock)
        return len(live) // 2

    def restore(self) -> None:
        self.open = True

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self.listener.close()
