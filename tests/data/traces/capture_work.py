"""The captured workload: stops itself, then loopback TCP, anonymous memory and a page-cache file, stops again."""

import mmap
import os
import signal
import socket
import sys

os.kill(os.getpid(), signal.SIGSTOP)  # the tracers start while it is stopped
srv = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(srv.getsockname())
server, _ = srv.accept()
chunk = b"x" * 16384
for _ in range(16):  # loopback TCP: skb page frags, freed by the receiver
    client.sendall(chunk)
    got = 0
    while got < len(chunk):
        got += len(server.recv(65536))
anon = mmap.mmap(-1, 64 * 4096)
anon.madvise(mmap.MADV_NOHUGEPAGE)
for offset in range(0, len(anon), 4096):  # 64 order-0 page faults, freed by munmap
    anon[offset] = 1
anon.close()
path = sys.argv[1]
with open(path, "wb") as f:  # 32 pages of page cache, freed by the unlink
    f.write(b"y" * 32 * 4096)
os.unlink(path)
for s in (client, server, srv):
    s.close()
os.kill(os.getpid(), signal.SIGSTOP)  # the tracers stop while it is stopped; then it exits untraced
