"""Feed and server figures: ``feed`` of the built-in routine cold and warm, the server's
feed and check-in under 50 concurrent clients on loopback, and its memory over an hour of
polling (compressed). Everything runs in private folders under a temporary directory,
never the real HOME; the server listens on 127.0.0.1 only.

    PYTHONPATH=. .venv/bin/python scripts/bench_feed.py [--piper] [--json FILE]

The concurrency run publishes one episode for each of the last ``CLIENTS`` days first
(the same inputs each day, so every day after the first is hard links), so each client
checks in an episode of its own, then submits it a second time: the history must then
hold exactly one session per episode (``lost``: fewer, ``duplicates``: more). The hour of
polling is ``POLL_REQUESTS`` feed fetches and as many range requests of the episode, as
an app polling and seeking once a second for an hour would send, sent back to back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
FETCHES_PER_CLIENT = 20
POLL_REQUESTS = 3600
RSS_EVERY = 400
TIMEOUT_S = 900


def private_env(root: Path, engine: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for name in ("cache", "state", "data", "config"):
        (root / name).mkdir(parents=True, exist_ok=True)
        env[f"VOICECOACH_{name.upper()}_DIR"] = str(root / name)
    (root / "config" / "config.yaml").write_text(f"engine: {engine}\n")
    return env


def time_feed(env: dict, out: Path, engine: str) -> dict:
    """``voicecoach feed back-pain`` cold (empty speech cache) and warm (nothing changed)."""
    out.mkdir(exist_ok=True)
    figures = {}
    for run in ("cold", "warm"):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "voicecoach", "feed", "back-pain", "--out", str(out),
                               "--engine", engine], env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        if done.returncode:
            raise RuntimeError(done.stderr)
        figures[f"{run}_s"] = round(time.perf_counter() - started, 2)
        figures[f"{run}_output"] = done.stdout.strip().splitlines()[-1]
    state = json.loads((out / ".voicecoach-feed.json").read_text())["episodes"]
    figures["episode_s"] = state[0]["duration_s"]
    figures["episode_mb"] = round(state[0]["audio_bytes"] / 1e6, 2)
    return figures


def prepublish(env: dict, folder: Path, days: int) -> None:
    """One episode for each of the last ``days`` days, in a process with the private folders."""
    code = ("import datetime as dt, sys; from pathlib import Path;"
            "from voicecoach.feed.publish import publish; from voicecoach.feed.today import resolvers;"
            "from voicecoach.session.request import SessionRequest;"
            "r = resolvers([SessionRequest('back-pain', engine='espeak')]);"
            f"[publish(Path(sys.argv[1]), r, day=dt.date.today() - dt.timedelta(days=d), keep={days + 5}) "
            f"for d in range({days - 1}, -1, -1)]")
    folder.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-c", code, str(folder)], env=env, check=True, timeout=TIMEOUT_S)


def start_server(env: dict, folder: Path, keep: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "serve", "back-pain", "--engine", "espeak",
                                "--port", "0", "--out", str(folder), "--keep", str(keep)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        found = re.search(r"Subscribe in your podcast app: (\S+)", line)
        if found:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # drain
            return process, found[1]
    raise RuntimeError("the server did not start")


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        answer.read()
        return answer.status, time.perf_counter() - started
    finally:
        connection.close()


def concurrency(port: int, token: str, episodes: list[str]) -> dict:
    """``CLIENTS`` threads: each fetches the feed ``FETCHES_PER_CLIENT`` times and checks in
    its own episode twice (the second must record nothing)."""
    times: dict[str, list[float]] = {"feed": [], "checkin": []}
    errors, lock = [], threading.Lock()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    barrier = threading.Barrier(CLIENTS)

    def client(index: int) -> None:
        barrier.wait()
        for turn in range(FETCHES_PER_CLIENT + 2):
            if turn in (FETCHES_PER_CLIENT // 2, FETCHES_PER_CLIENT // 2 + 1):
                kind, args = "checkin", ("POST", f"/{token}/checkin/{episodes[index]}", b"ended=done&felt=same", form)
            else:
                kind, args = "feed", ("GET", f"/{token}/feed.xml")
            try:
                status, took = request(port, *args)
            except OSError as error:
                status, took = repr(error), 0.0
            with lock:
                (times[kind].append(took) if status == 200 else errors.append(f"{kind}: {status}"))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    wall = time.perf_counter() - started
    count = sum(len(t) for t in times.values()) + len(errors)
    return {"clients": CLIENTS, "requests": count, "wall_s": round(wall, 2),
            "requests_per_s": round(count / wall, 1), "errors": len(errors), "error_samples": errors[:5],
            **{f"{kind}_p50_ms": _ms(statistics.median(t)) for kind, t in times.items() if t},
            **{f"{kind}_p99_ms": _ms(_quantile(t, 0.99)) for kind, t in times.items() if t}}


def polled_hour(process: subprocess.Popen, port: int, token: str, audio: str) -> dict:
    """RSS of the server through ``POLL_REQUESTS`` feed fetches and range requests."""
    samples = [_rss_mb(process.pid)]
    started = time.perf_counter()
    for done in range(1, POLL_REQUESTS + 1):
        request(port, "GET", f"/{token}/feed.xml")
        offset = (done * 7919) % 100_000
        request(port, "GET", f"/{token}/{audio}", headers={"Range": f"bytes={offset}-{offset + 65535}"})
        if done % RSS_EVERY == 0:
            samples.append(_rss_mb(process.pid))
    return {"requests": 2 * POLL_REQUESTS, "wall_s": round(time.perf_counter() - started, 1),
            "rss_start_mb": samples[0], "rss_end_mb": samples[-1], "rss_max_mb": max(samples)}


def sessions(env: dict) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--json"], env=env,
                          capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024, 1)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def serve_figures(root: Path) -> dict:
    env = private_env(root / "serve", "espeak")
    folder = root / "serve" / "feed"
    prepublish(env, folder, CLIENTS)
    state = json.loads((folder / ".voicecoach-feed.json").read_text())["episodes"]
    episodes = sorted(e["id"] for e in state)[-CLIENTS:]
    process, url = start_server(env, folder, keep=CLIENTS + 5)
    port, token = urlsplit(url).port, urlsplit(url).path.split("/")[1]
    try:
        load = concurrency(port, token, episodes)
        recorded = sessions(env)
        load["checkins_recorded"] = len(recorded)
        load["lost_checkins"] = max(0, CLIENTS - len(recorded))
        load["duplicate_checkins"] = max(0, len(recorded) - CLIENTS)
        audio = sorted(e["id"] for e in state)[-1] + ".mp3"
        memory = polled_hour(process, port, token, audio)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return {"concurrency": load, "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--piper", action="store_true", help="also time feed with Piper")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    figures = {"date": dt.date.today().isoformat(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-feed-") as temporary:
        root = Path(temporary)
        for engine in ("espeak", "piper") if args.piper else ("espeak",):
            figures[f"feed_{engine}"] = time_feed(private_env(root / engine, engine), root / engine / "out", engine)
            print(f"feed back-pain ({engine}): {json.dumps(figures[f'feed_{engine}'])}", flush=True)
        figures.update(serve_figures(root))
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
