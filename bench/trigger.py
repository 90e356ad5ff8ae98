#!/usr/bin/python3
"""Trigger throughput and trigger-to-start latency, against a baseline in the same run.

Prints ratios against nginx answering a static 201 on the same machine, in the
same run, with the same client: absolute numbers drift on shared machines.

  bench/trigger.py [--seconds S] [--bin build/steward]

Needs nginx (Debian nginx-light) for the baseline and wrk for the
many-connection figure; either is skipped when missing.
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

JOB = """<?xml version='1.1' encoding='UTF-8'?>
<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>
<hudson.model.StringParameterDefinition><name>N</name><defaultValue>0</defaultValue>
</hudson.model.StringParameterDefinition></parameterDefinitions>
</hudson.model.ParametersDefinitionProperty></properties>
<concurrentBuild>true</concurrentBuild><quietPeriod>%d</quietPeriod>
<builders>%s</builders></project>"""


def start_steward(binary, home, executors=2):
    subprocess.run([binary, "--home", home, "user", "add", "bench", "--password", "bench-password"],
                   check=True, capture_output=True)
    token = subprocess.run([binary, "--home", home, "token", "new", "bench", "--name", "b"],
                           check=True, capture_output=True, text=True).stdout.strip()
    log = open(os.path.join(home, "log"), "w")
    p = subprocess.Popen([binary, "--home", home, "serve", "--listen", "127.0.0.1:0",
                          "--queue-limit", "1000000",
                          "--executors", str(executors), *os.environ.get("STEWARD_ARGS", "").split()], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(500):
        m = re.search(r"\(port (\d+)\)", open(os.path.join(home, "log")).read())
        if m:
            return p, int(m.group(1)), token
        time.sleep(0.01)
    raise SystemExit("steward did not start")


def start_nginx(tmp):
    if not shutil.which("nginx"):
        return None, None
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:0; location / {{
  add_header Location http://127.0.0.1/queue/item/1/; return 201; }} }} }}""")
    # nginx cannot print the port it chose: pick one
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with open(conf) as f:
        text = f.read().replace("listen 127.0.0.1:0", f"listen 127.0.0.1:{port}")
    with open(conf, "w") as f:
        f.write(text)
    p = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return p, port


def rss_kb(pid, field="VmRSS"):
    """A process's resident memory (or its peak, VmHWM), in KiB, from /proc."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def nginx_rss_kb(master):
    """nginx's master and worker together."""
    total = rss_kb(master.pid) or 0
    for task in os.listdir("/proc"):
        if task.isdigit():
            try:
                with open(f"/proc/{task}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master.pid:
                        total += rss_kb(int(task)) or 0
            except (OSError, ValueError, IndexError):
                pass
    return total


def sequential(port, path_fn, headers, seconds):
    """One client, one keep-alive connection, requests back to back."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    n, codes, t0 = 0, {}, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        c.request("POST", path_fn(n), headers=headers)
        r = c.getresponse()
        r.read()
        codes[r.status] = codes.get(r.status, 0) + 1
        n += 1
    return n / (time.perf_counter() - t0), codes


def wrk(port, path, auth, seconds, conns=32):
    if not shutil.which("wrk"):
        return None
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    # each wrk thread has its own Lua state: a per-thread prefix keeps the values distinct,
    # so that no trigger merges into another's queue item
    script.write(f"""counter = 0
prefix = string.gsub(tostring({{}}), "[^%w]", "")
request = function()
  counter = counter + 1
  return wrk.format("POST", "{path}" .. prefix .. "x" .. counter, {{["Authorization"] = "{auth}"}})
end""")
    script.close()
    proc = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{max(1, int(seconds))}s", "-s", script.name,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    os.unlink(script.name)
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not m:
        print(out)
        return None, 0
    total, secs = int(m.group(1)), float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    # only answers that are 2xx count: past the queue's bound Steward answers 503 at once
    return (total - bad) / secs, bad


def latency(port, auth, samples=30):
    """Trigger a no-op build and measure until it started, by the server's clocks and ours."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    server_ms, client_ms = [], []
    for i in range(samples):
        t0 = time.perf_counter()
        c.request("POST", f"/job/lat/buildWithParameters?N={i}", headers={"Authorization": auth})
        r = c.getresponse()
        r.read()
        qid = r.getheader("Location").rstrip("/").rsplit("/", 1)[1]
        while True:
            c.request("GET", f"/queue/item/{qid}/api/json", headers={"Authorization": auth})
            item = json.loads(c.getresponse().read())
            if item.get("executable"):
                break
        client_ms.append((time.perf_counter() - t0) * 1000)
        n = item["executable"]["number"]
        c.request("GET", f"/job/lat/{n}/api/json", headers={"Authorization": auth})
        b = json.loads(c.getresponse().read())
        server_ms.append(b["timestamp"] - item["inQueueSince"])
    return statistics.median(server_ms), statistics.median(client_ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "steward"))
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="steward-bench-")
    home = os.path.join(tmp, "home")
    steward, port, token = start_steward(a.bin, home)
    nginx, nport = start_nginx(tmp)
    auth = "Basic " + base64.b64encode(f"bench:{token}".encode()).decode()
    hdr = {"Authorization": auth, "Content-Length": "0"}
    try:
        for name, quiet, steps in (("hold", 3600, ""), ("lat", 0, "")):
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("POST", f"/createItem?name={name}", body=JOB % (quiet, steps),
                      headers={"Authorization": auth, "Content-Type": "application/xml"})
            assert c.getresponse().status == 200

        print(f"steward {a.bin}, {os.cpu_count()} cores")
        idle, idle_anon = rss_kb(steward.pid), rss_kb(steward.pid, "RssAnon")
        nginx_idle = nginx_rss_kb(nginx) if nginx else None
        base = None
        if nginx:
            base, _ = sequential(nport, lambda n: "/job/x/build", hdr, a.seconds)
            print(f"nginx static 201, one client, sequential:   {base:9.0f} req/s  (baseline)")
        rate, codes = sequential(port, lambda n: f"/job/hold/buildWithParameters?N={n}", hdr,
                                 a.seconds)
        ratio = f"  {rate / base:.2f}x baseline" if base else ""
        print(f"steward authenticated triggers, one client:  {rate:9.0f} req/s{ratio}  codes {codes}")

        # let the queue drain of the held items before the concurrent run
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("POST", "/job/hold/doDelete", headers={"Authorization": auth})
        c.getresponse().read()
        c.request("POST", "/createItem?name=hold", body=JOB % (3600, ""),
                  headers={"Authorization": auth, "Content-Type": "application/xml"})
        c.getresponse().read()

        if nginx and shutil.which("wrk"):
            wb = wrk(nport, "/job/x/build?N=", auth, a.seconds)
            # the server runs with --queue-limit 1000000, so every trigger is taken
            ws = wrk(port, "/job/hold/buildWithParameters?N=", auth, min(a.seconds, 3))
            if wb[0] and ws[0]:
                print(f"nginx static 201, wrk 32 connections:       {wb[0]:9.0f} req/s  (baseline)")
                print(f"steward triggers, wrk 32 connections:       {ws[0]:9.0f} 201/s  "
                      f"{ws[0] / wb[0]:.2f}x baseline, {ws[1]} refused")
            c.request("POST", "/job/hold/doDelete", headers={"Authorization": auth})
            c.getresponse().read()

        peak = rss_kb(steward.pid, "VmHWM")
        base_mem = f" (nginx, master and worker: {nginx_idle} KiB)" if nginx_idle else ""
        print(f"steward memory: {idle} KiB resident when idle, {idle_anon} KiB of it its own "
              f"(not shared libraries){base_mem}; {peak} KiB at its peak after the runs above")
        srv, cli = latency(port, auth)
        print(f"trigger to build start, median of 30: server {srv:.1f} ms "
              f"(build timestamp - inQueueSince), client {cli:.1f} ms (POST to executable seen)")
    finally:
        steward.send_signal(signal.SIGTERM)
        steward.wait(timeout=30)
        if nginx:
            nginx.terminate()
            nginx.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
