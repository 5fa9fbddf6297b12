#!/usr/bin/env python3
# The "wire" of the weak-link emulator: runs inside the wire network namespace and copies Ethernet
# frames between its two veth ends (A faces the host, B faces the client), adding one-way delay,
# jitter, random loss and blackouts -- what the kernel's netem would do, which this machine lacks.
# Rules: standard library only (Debian's python3); touches nothing but the two interfaces named on
# its command line; reads its link conditions as JSON lines on stdin (so the test can change them
# mid-call) and exits when stdin closes. The rate is shaped by `tc tbf` on the same interfaces.
import ctypes
import fcntl
import heapq
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SIOCETHTOOL = 0x8946
# Legacy ethtool set commands: tx checksum, scatter-gather, TSO, GSO, GRO.
ETHTOOL_OFFLOADS_OFF = (0x17, 0x19, 0x1F, 0x24, 0x2C)


def offloads_off(ifname):
    """A frame copied by a packet socket must carry real checksums and be at most one MTU."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for cmd in ETHTOOL_OFFLOADS_OFF:
            # struct ethtool_value { u32 cmd; u32 data; } behind struct ifreq { name[16]; void *data; }
            value = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
            ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(value))
            try:
                fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
            except OSError:
                pass  # an offload the driver does not have is already off
    finally:
        s.close()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "offloads-off":
        offloads_off(sys.argv[2])
        return
    a_name, b_name = sys.argv[1], sys.argv[2]
    socks = {}
    for name in (a_name, b_name):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        socks[name] = s
    other = {a_name: socks[b_name], b_name: socks[a_name]}
    # Conditions per direction: "up" = client -> host (arrives on B), "down" = host -> client.
    cond = {"delayMs": 0, "jitterMs": 0, "loss": 0.0, "blackout": False}
    counts = {"up": [0, 0], "down": [0, 0]}  # [forwarded, dropped]
    queue = []  # (due, seq, out_socket, frame)
    seq = 0
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b""
    last_due = {a_name: 0.0, b_name: 0.0}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        now = time.monotonic()
        timeout = 0.05
        if queue:
            timeout = max(0.0, min(timeout, queue[0][0] - now))
        readable, _, _ = select.select([stdin] + list(socks.values()), [], [], timeout)
        for r in readable:
            if r == stdin:
                chunk = os.read(stdin, 65536)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip() == b"stats":
                        sys.stdout.write(json.dumps(counts) + "\n")
                        sys.stdout.flush()
                    elif line.strip():
                        cond.update(json.loads(line))
                        sys.stdout.write("ok\n")
                        sys.stdout.flush()
                continue
            name = a_name if r is socks[a_name] else b_name
            direction = "down" if name == a_name else "up"
            for _ in range(256):
                try:
                    frame, addr = r.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                if cond["blackout"] or random.random() < cond["loss"]:
                    counts[direction][1] += 1
                    continue
                delay = cond["delayMs"] / 1000.0
                if cond["jitterMs"]:
                    delay += random.uniform(-1, 1) * cond["jitterMs"] / 1000.0
                due = time.monotonic() + max(0.0, delay)
                # A wire does not reorder: never due before the frame ahead of it.
                due = max(due, last_due[name])
                last_due[name] = due
                seq += 1
                heapq.heappush(queue, (due, seq, other[name], frame, direction))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame, direction = heapq.heappop(queue)
            try:
                out.send(frame)
                counts[direction][0] += 1
            except OSError:
                counts[direction][1] += 1


if __name__ == "__main__":
    main()
