"""A TCP proxy on loopback that holds each HTTP request for a fixed delay: a stand-in for the
network distance to AWS, which loopback hides.

The delay applies once per request, when a client starts sending after it has received an answer
(or on a new connection), and not per TCP segment, so a large request body costs no more than a
small one. Bytes pass unchanged, TLS included. ``requests`` counts the delayed sends.

    with DelayProxy(("127.0.0.1", 5000), delay_ms=50) as proxy:
        proxy.address  # "127.0.0.1:PORT", to use instead of the upstream
"""

from __future__ import annotations

import socket
import threading
import time

CHUNK = 65536


class DelayProxy:
    def __init__(self, upstream, delay_ms=50):
        self.upstream = upstream  # (host, port)
        self.delay = delay_ms / 1000.0
        self.requests = 0
        self._lock = threading.Lock()
        self._listener = None
        self._sockets = set()

    @property
    def address(self):
        return "127.0.0.1:%d" % self._listener.getsockname()[1]

    def start(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, name="delay-proxy", daemon=True).start()
        return self

    def stop(self):
        listener, self._listener = self._listener, None
        if listener:
            listener.close()
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            _close(sock)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _accept(self):
        listener = self._listener
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # closed by stop()
            try:
                server = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets.update((client, server))
            turn = {"client": True}  # True while the next client bytes start a new request
            threading.Thread(target=self._pipe, args=(client, server, turn, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, turn, False), daemon=True).start()

    def _pipe(self, source, target, turn, from_client):
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                if from_client and turn["client"]:
                    turn["client"] = False
                    with self._lock:
                        self.requests += 1
                    time.sleep(self.delay)
                elif not from_client:
                    turn["client"] = True
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                _close(sock)
            with self._lock:
                self._sockets.difference_update((source, target))


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
