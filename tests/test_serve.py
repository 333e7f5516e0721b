"""``voicecoach serve`` as a phone meets it: a real server process on 127.0.0.1 (never
another address), its feed parsed, every file fetched whole and in ranges, the check-in
recorded once at the episode's levels, every security case, and a clean stop that loses
no check-in. A real browser (Debian's chromium) submits the check-in page."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support import REPO, TEST_DATA, requires_espeak

pytestmark = [pytest.mark.slow, requires_espeak]
ROUTINE = str(TEST_DATA / "feed-small.yaml")
START_S = 90  # the server's start and its first episode (espeak-ng on a loaded machine)


@dataclass
class Server:
    process: subprocess.Popen
    url: str          # the feed's address
    folder: Path
    data: Path        # the data folder: history, token, check-ins
    env: dict

    @property
    def port(self) -> int:
        return urlsplit(self.url).port

    @property
    def base(self) -> str:
        return self.url.rsplit("/", 1)[0] + "/"

    @property
    def token(self) -> str:
        return urlsplit(self.url).path.split("/")[1]

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        """(status, headers, body) of one request, the path sent exactly as given."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in {**({"Content-Length": str(len(body))} if body is not None else {}),
                                **(headers or {})}.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            connection.close()

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def episodes(self) -> list[dict]:
        state = self.folder / ".voicecoach-feed.json"
        return json.loads(state.read_text())["episodes"] if state.exists() else []

    def sessions(self) -> list:
        from voicecoach.history.store import History
        path = self.data / "history.db"
        if not path.exists():
            return []
        with History.open(path, write=False) as history:
            return history.sessions()

    def stop(self, signalled: bool = False) -> tuple[int, str]:
        """Stop it with SIGTERM (unless ``signalled`` already); its exit status and output."""
        if not signalled and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return self.process.returncode, out


def start_server(root: Path, *extra: str) -> Server:
    """``voicecoach serve`` of the small routine in a process of its own, with private user
    folders under ``root``; returns once today's episode is published."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for name in ("cache", "state", "data"):
        env[f"VOICECOACH_{name.upper()}_DIR"] = str(root / name)
    folder = root / "feed"
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "serve", ROUTINE, "--engine", "espeak",
                                "--port", "0", "--out", str(folder), *extra],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, lines = None, []
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line or line.startswith("Ctrl-C stops"):
            break
        lines.append(line)
        found = re.search(r"Subscribe in your podcast app: (\S+)", line)
        url = url or (found and found[1])
    assert url, "".join(lines)
    server = Server(process, url, folder, root / "data", env)
    while not server.episodes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.episodes(), "no episode was published"
    server.printed = "".join(lines)
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


def test_it_listens_on_loopback_only_and_prints_the_url_and_a_qr_code(server):
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/feed.xml")
    assert "this computer only" in server.printed and "\u2588" in server.printed  # the QR code's blocks
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    ours = [fields[1] for fields in listening if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == server.port]
    assert ours == [f"0100007F:{server.port:04X}"]  # 127.0.0.1, not 0.0.0.0
    assert len(server.token) >= 22  # 128 bits or more of URL-safe base64
    token_file = server.data / "feed-token"
    assert token_file.read_text().strip() == server.token
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_the_served_feed_parses_and_every_file_comes_whole_and_in_ranges(server):
    import feedparser
    import podcastparser
    status, headers, body = server.get(urlsplit(server.url).path)
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    parsed = podcastparser.parse(server.url, __import__("io").BytesIO(body))
    assert not feedparser.parse(body).bozo
    (episode,) = parsed["episodes"]
    (state,) = server.episodes()
    urls = [episode["enclosures"][0]["url"]] + re.findall(r'podcast:(?:chapters|transcript) url="([^"]+)"', body.decode())
    assert len(urls) == 3 and episode["enclosures"][0]["file_size"] == state["audio_bytes"]
    for url in urls:
        path = urlsplit(url).path
        on_disk = (server.folder / path.rsplit("/", 1)[1]).read_bytes()
        status, headers, whole = server.get(path)
        assert (status, whole, headers["Accept-Ranges"]) == (200, on_disk, "bytes")
        size = len(on_disk)
        for asked, start, end in (("bytes=10-99", 10, 100), ("bytes=-50", size - 50, size),
                                  (f"bytes={size - 7}-", size - 7, size), (f"bytes=5-{size + 100}", 5, size)):
            status, headers, part = server.get(path, {"Range": asked})
            assert status == 206 and part == on_disk[start:end], asked
            assert headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}"
        status, headers, part = server.get(path, {"Range": f"bytes={size}-"})
        assert (status, headers["Content-Range"], part) == (416, f"bytes */{size}", b"")
        status, headers, part = server.request("HEAD", path)
        assert (status, headers["Content-Length"], part) == (200, str(size), b"")


def test_wrong_tokens_and_paths_outside_the_feed_are_404_naming_no_file(server):
    (episode,) = server.episodes()
    audio, token = episode["id"] + ".mp3", server.token
    (server.folder / "private-notes.txt").write_text("not published")
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    paths = ["/", "/feed.xml", f"/{audio}", f"/{wrong}/feed.xml", f"/{wrong}/{audio}", f"/{token}",
             f"/{token}/", f"/{token}/.voicecoach-feed.json", f"/{token}/.voicecoach-feed.lock",
             f"/{token}/private-notes.txt", f"/{token}/../{token}/feed.xml", f"/{token}/./feed.xml",
             f"/{token}/..", f"/{token}/%2e%2e/data/feed-token", f"/{token}%2Ffeed.xml",
             f"/{token}/checkin%2F{episode['id']}", f"/{token}/feed%2Exml", f"/{token}//feed.xml",
             f"/{token}/feed.xml/", f"/{token}/{audio}/x", f"/{token}\\feed.xml", f"/{token}/checkin/",
             f"/{token}/checkin", f"/{token.lower() if token.lower() != token else token.upper()}/feed.xml",
             "/../../../etc/passwd", f"/{token}/../../data/history.db"]
    for path in paths:
        status, _, body = server.get(path)
        assert status == 404, path
        text = body.decode()
        for name in ("voicecoach-feed", "feed.xml", ".mp3", "private-notes", "history", str(server.folder)):
            assert name not in text, (path, name)
    assert server.get(f"/{token}/feed.xml")[0] == 200  # the right URL still works


def test_a_symbolic_link_in_place_of_a_published_file_is_404(server):
    (episode,) = server.episodes()
    transcript = server.folder / (episode["id"] + ".srt")
    kept = transcript.read_bytes()
    (server.folder / "elsewhere.srt").write_bytes(kept)
    transcript.unlink()
    transcript.symlink_to(server.folder / "elsewhere.srt")
    try:
        status, _, body = server.get(f"/{server.token}/{transcript.name}")
        assert status == 404 and b"srt" not in body
    finally:
        transcript.unlink()
        transcript.write_bytes(kept)
    assert server.get(f"/{server.token}/{transcript.name}")[0] == 200


def test_oversized_bodies_and_unpublished_episodes_are_refused_and_record_nothing(server):
    (episode,) = server.episodes()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    checkin = f"/{server.token}/checkin/{episode['id']}"
    status, _, _ = server.request("POST", checkin, b"felt=better&pad=" + b"x" * (17 * 1024), form)
    assert status == 413
    never = episode["id"][:-10] + "0123456789"
    assert server.get(f"/{server.token}/checkin/{never}")[0] == 404
    status, _, body = server.request("POST", f"/{server.token}/checkin/{never}", b"felt=better", form)
    assert status == 404 and b"feed" not in body
    status, _, body = server.request("POST", checkin, b"felt=great", form)  # not one of the three
    assert status == 400 and b"better, the same or worse" in body
    assert server.request("PUT", f"/{server.token}/feed.xml", b"")[0] == 405
    assert server.sessions() == []


def test_a_check_in_records_one_session_at_the_episodes_levels_and_says_whats_next(tmp_path):
    running = start_server(tmp_path)
    try:
        (episode,) = running.episodes()
        # Two good sessions logged meanwhile raise today's level: the check-in keeps the episode's.
        _log_good_sessions(running, episode, 2)
        path = f"/{running.token}/checkin/{episode['id']}"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _, page = running.request("POST", path, b"ended=Knee+hug&hurt=yes&pain=4&felt=worse", form)
        assert status == 200 and b"Recorded at" in page and b"stopped at Knee hug because it hurt" in page
        again = running.request("POST", path, b"ended=done&felt=better", form)
        assert again[0] == 200 and b"Already recorded" in again[2] and b"felt worse" in again[2]
        logged = [s for s in running.sessions() if s.stop_reason == "pain"]
        assert len(running.sessions()) == 3 and len(logged) == 1
        (session,) = logged
        assert session.levels == (("Knee hug", 2), ("Breathe", 1)) and session.source == "log"
        assert (session.stopped_at, session.felt, session.pain) == ("Knee hug", "worse", 4)
        assert b"Next session</h2><ul><li>Knee hug: 2 reps: start level" in page  # not today's 3
    finally:
        status, out = running.stop()
    assert status == 0 and out.endswith("Stopped.\n"), out


def test_the_feed_fetched_after_a_check_in_has_the_next_session(tmp_path):
    running = start_server(tmp_path)
    try:
        (episode,) = running.episodes()
        _log_good_sessions(running, episode, 1)  # with the check-in, two good ones: a rep more
        status, _, page = running.request("POST", f"/{running.token}/checkin/{episode['id']}",
                                          b"ended=done&felt=better",
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200 and b"Knee hug: 3 reps: up from 2" in page
        running.get(f"/{running.token}/feed.xml")  # the fetch starts it; the next one lists it
        deadline = time.monotonic() + START_S
        while len(running.episodes()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        newest = max(running.episodes(), key=lambda e: e["published_at"])
        assert dict(map(tuple, newest["levels"]))["Knee hug"] == 3
        feed = running.get(f"/{running.token}/feed.xml")[2].decode()
        assert newest["id"] + ".mp3" in feed and episode["id"] + ".mp3" in feed
    finally:
        running.stop()


def test_a_stop_signal_lets_a_check_in_under_way_finish(tmp_path):
    running = start_server(tmp_path)
    (episode,) = running.episodes()
    body = b"ended=done&pain=1&felt=same"
    head = (f"POST /{running.token}/checkin/{episode['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", running.port), timeout=30) as client:
        client.sendall(head + body[:5])
        time.sleep(0.5)
        running.process.send_signal(signal.SIGTERM)  # mid-request: the rest is still to come
        time.sleep(0.5)
        client.sendall(body[5:])
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    status, out = running.stop(signalled=True)
    assert answer.startswith(b"HTTP/1.1 200") and b"Recorded at" in answer, answer[:300]
    assert status == 0 and out.endswith("Stopped.\n"), out
    (session,) = running.sessions()
    assert (session.felt, session.pain) == ("same", 1)
    with pytest.raises(OSError):  # and it is gone
        socket.create_connection(("127.0.0.1", running.port), timeout=5).close()


def test_a_new_token_replaces_the_old_one(tmp_path):
    first = start_server(tmp_path)
    old = first.token
    first.stop()
    second = start_server(tmp_path, "--new-token")
    try:
        assert second.token != old
        assert second.get(f"/{old}/feed.xml")[0] == 404
        status, _, feed = second.get(f"/{second.token}/feed.xml")
        assert status == 200 and old.encode() not in feed and second.token.encode() in feed
    finally:
        second.stop()


# Debian's chromium and its driver: scripts/install.sh installs them, so CI never skips.
needs_chromium = pytest.mark.skipif(not Path("/usr/bin/chromedriver").exists() and not os.environ.get("CI"),
                                    reason="chromium-driver is not installed (CI installs it)")


@needs_chromium
def test_a_real_browser_opens_the_check_in_from_the_show_notes_and_submits_it(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    import feedparser
    running = start_server(tmp_path)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        notes = feedparser.parse(running.get(urlsplit(running.url).path)[2]).entries[0].description
        link = re.search(r'href="([^"]+)"', notes)[1]
        assert link.startswith(f"http://127.0.0.1:{running.port}/{running.token}/checkin/")
        browser.get(link)
        assert "Check in" in browser.title
        Select(browser.find_element(By.NAME, "ended")).select_by_value("done")
        browser.find_element(By.CSS_SELECTOR, 'input[name="pain"][value="2"]').click()
        browser.find_element(By.CSS_SELECTOR, 'button[value="better"]').click()
        WebDriverWait(browser, 30).until(lambda b: "Checked in" in b.title)
        assert "Next session" in browser.page_source and "Knee hug: 2 reps" in browser.page_source
    finally:
        browser.quit()
        running.stop()
    (session,) = running.sessions()
    assert (session.felt, session.pain, session.outcome) == ("better", 2, "completed")
    assert session.levels == (("Knee hug", 2), ("Breathe", 1))


def _log_good_sessions(server: Server, episode: dict, count: int) -> None:
    """``voicecoach log`` as the user would type it, into the server's history."""
    for _ in range(count):
        done = subprocess.run([sys.executable, "-m", "voicecoach", "log", ROUTINE, "--felt", "better"],
                              env=server.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
