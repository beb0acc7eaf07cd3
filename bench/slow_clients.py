#!/usr/bin/env python3
"""Attacks `deepcross serve` the way hostile or broken clients do, on loopback only, and
measures what well-behaved clients see meanwhile (bench/README.md, "Reliability").

  python3 bench/slow_clients.py --binary build/deepcross [--model m.dcn] [--slow 300]
                                [--seconds 20] [--threads 2]

Without --model it generates 2,000 rows (deepcross synth) and trains a small model first.
Three attacks, one after the other, on one server (127.0.0.1, a free port):
  1. slowloris: --slow connections each send a request head one byte a second (never
     finishing it); meanwhile one well-behaved client sends a prediction request every
     100 ms. Reported: its latencies (p50, p99, max) and failures, how the slow connections
     ended (408 answers, closed without an answer), the server's CPU seconds and peak RSS.
  2. pipelining: 50 requests written in one send on one connection; reported: how many
     answers came back, in order.
  3. framing: bodies with a negative, a 25-digit and a repeated Content-Length, a POST with
     no length, an unknown Content-Encoding; reported: each status and how long it took.
Bounded: at most 2,000 slow connections and 120 s of attack; only 127.0.0.1 is contacted.
Standard library only (no third-party packages).
"""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def read_answer(sock, timeout):
    """One HTTP answer (status, headers, body) or None when the connection closes first."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return (status, headers, rest[:length]), rest[length:]
    except (socket.timeout, ConnectionError):
        return None, buf


def request(path, body=b"", method=None, extra=""):
    method = method or ("POST" if body else "GET")
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{extra}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")


def slowloris(port, pid, slow, seconds, body):
    conns = []
    for _ in range(slow):
        s = socket.create_connection((HOST, port))
        s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
        conns.append(s)
    cpu0 = cpu_seconds(pid)
    latencies, failures, replaced = [], 0, 0
    start = time.time()
    next_byte = start
    while time.time() - start < seconds:
        if time.time() >= next_byte:  # one more header byte on every slow connection
            for i, s in enumerate(conns):
                try:
                    s.sendall(b"a")
                except OSError:  # the server gave up on it: a new one takes its place
                    s.close()
                    conns[i] = socket.create_connection((HOST, port))
                    conns[i].sendall(b"POST /v1/predict HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
                    replaced += 1
            next_byte += 1.0
        t0 = time.time()
        try:
            with socket.create_connection((HOST, port), timeout=10) as c:
                c.sendall(request("/v1/predict", body))
                answer, _ = read_answer(c, 10)
            ok = answer is not None and answer[0] == 200
        except OSError:
            ok = False
        if ok:
            latencies.append((time.time() - t0) * 1000)
        else:
            failures += 1
        time.sleep(0.1)
    # How the slow connections still open at the end end (the server's head timeout).
    ended = {"408": 0, "other answer": 0, "no answer within 15 s": 0}
    deadline = time.time() + 15
    for s in conns:
        answer, _ = read_answer(s, max(0.1, deadline - time.time()))
        if answer is None:
            ended["no answer within 15 s"] += 1
        else:
            ended["408" if answer[0] == 408 else "other answer"] += 1
        s.close()
    return {
        "slow_connections": slow,
        "seconds": seconds,
        "good_requests": len(latencies) + failures,
        "good_failures": failures,
        "good_latency_ms": {"p50": round(percentile(latencies, 50), 2),
                            "p99": round(percentile(latencies, 99), 2),
                            "max": round(max(latencies) if latencies else float("nan"), 2)},
        "slow_replaced_after_the_server_closed_them": replaced,
        "slow_ended": ended,
        "server_cpu_s": round(cpu_seconds(pid) - cpu0, 2),
        "server_peak_rss_mib": round(peak_rss_mib(pid), 1),
    }


def pipelining(port, body, count=50):
    with socket.create_connection((HOST, port), timeout=20) as c:
        reqs = [request("/health") if i % 2 else request("/v1/predict", body) for i in range(count)]
        c.sendall(b"".join(reqs))
        statuses, rest = [], b""
        c.settimeout(20)
        for i in range(count):
            buf = rest
            # read_answer re-reads from the socket; feed it what is left over first
            while b"\r\n\r\n" not in buf:
                chunk = c.recv(65536)
                if not chunk:
                    break
                buf += chunk
            if b"\r\n\r\n" not in buf:
                break
            head, _, after = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            while len(after) < length:
                after += c.recv(65536)
            body_i = after[:length]
            rest = after[length:]
            expected = b"status" if i % 2 else b"predictions"
            statuses.append(int(lines[0].split()[1]) == 200 and expected in body_i)
    return {"sent": count, "answered": len(statuses), "in_order_and_right": sum(statuses)}


def framing(port):
    cases = [
        ("negative Content-Length", "Content-Length: -1\r\n"),
        ("25-digit Content-Length", "Content-Length: 9999999999999999999999999\r\n"),
        ("repeated Content-Length", "Content-Length: 11\r\nContent-Length: 12\r\n"),
        ("POST without length", ""),
        ("Content-Encoding: compress", "Content-Length: 11\r\nContent-Encoding: compress\r\n"),
    ]
    out = {}
    for name, headers in cases:
        t0 = time.time()
        with socket.create_connection((HOST, port), timeout=40) as c:
            c.sendall(("POST /v1/predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                       + headers + "\r\n" + '{"rows":[]}').encode())
            answer, _ = read_answer(c, 40)
        out[name] = {"status": answer[0] if answer else None,
                     "ms": round((time.time() - t0) * 1000, 1)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default="build/deepcross")
    ap.add_argument("--model")
    ap.add_argument("--slow", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if not 1 <= a.slow <= 2000 or not 1 <= a.seconds <= 120:
        sys.exit("--slow must be 1..2000 and --seconds 1..120")
    work = tempfile.mkdtemp(prefix="slow_clients_")
    model = a.model
    if not model:
        data = os.path.join(work, "d.tsv")
        model = os.path.join(work, "m.dcn")
        subprocess.run([a.binary, "synth", "--rows", "2000", "--output", data], check=True,
                       capture_output=True)
        subprocess.run([a.binary, "train", "--data", data, "--model", model, "--epochs", "1",
                        "--threads", "1"], check=True, capture_output=True)
    # One Criteo-shaped row as JSON (every field missing but one: enough to be scored).
    body = json.dumps({"rows": [{"I1": 3, "C14": "68fd1e64"}]}).encode()
    port = free_port()
    server = subprocess.Popen([a.binary, "serve", "--model", model, "--host", HOST, "--port",
                               str(port), "--threads", str(a.threads)],
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        result = {
            "slowloris": slowloris(port, server.pid, a.slow, a.seconds, body),
            "pipelining": pipelining(port, body),
            "framing": framing(port),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
