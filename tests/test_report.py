"""``voicecoach report``: the report for a physiotherapist, as CSV (read back by Python's csv
reader) and as HTML (printed to PDF by a real headless Chromium, whose text is read back)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess

import pytest

from voicecoach.cli import cli
from voicecoach.history.journal import routine_identity
from voicecoach.history.store import History, SessionRecord
from voicecoach.programme.summary import summarize

from support import cli_runner

UTC = dt.timezone.utc
NAMES = ["Pelvic tilt", "Cat-cow", "Knee rolls", "Single leg hug", "Double leg hug"]
CI = bool(os.environ.get("CI"))


def session(day: int, reps: int = 3, **changes) -> SessionRecord:
    name, digest = routine_identity("back-pain")
    fields = dict(routine=name, routine_digest=digest, length_s=612,
                  started_at=dt.datetime(2026, 11, 2, 18, tzinfo=UTC) + dt.timedelta(days=day),
                  levels={n: reps for n in NAMES}, felt="same")
    return SessionRecord(**{**fields, **changes})


PAST = [session(0, pain=2), session(2, felt="better", pain=2), session(4, reps=4, pain=3),
        session(7, reps=4, outcome="stopped", stopped_at="Knee rolls", stop_reason="pain",
                felt="worse", pain=6),
        session(9, reps=3, pain=4), session(11, reps=3, outcome="stopped", stopped_at="Cat-cow",
                                            stop_reason="quit")]


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(tmp_path / "settings"))
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "config.yaml").write_text("engine: espeak\nschedule: {per_week: 3}\n")
    monkeypatch.setenv("TZ", "UTC")
    with History.open() as history:
        for record in PAST:
            history.record(record)
    return tmp_path


def test_the_summary_counts_weeks_pain_and_stops():
    summary = summarize("back-pain", PAST, 3, tz=UTC, today=dt.date(2026, 11, 20))
    assert (summary.start, summary.end) == (dt.date(2026, 11, 2), dt.date(2026, 11, 13))
    assert [(w.label, w.done, w.current) for w in summary.weeks] == [
        ("2026-W45", 3, False), ("2026-W46", 2, False)]  # the quit session does not count
    assert summary.adherence == (5, 6) and summary.streak == 0
    assert [r.pain_change for r in summary.rows] == [None, 0, 1, 3, -2, None]
    assert summary.pain_trend == "rising"
    assert [(r.when.day, r.stopped_in) for r in summary.stopped_for_pain] == [(9, "Knee rolls")]


def test_the_csv_reads_back_with_the_csv_reader(recorded):
    out = recorded / "report.csv"
    done = cli_runner().invoke(cli, ["report", "back-pain", "-o", str(out)])
    assert (done.exit_code, done.stdout) == (0, f"Wrote {out}\n"), done.output
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    blank = [i for i, row in enumerate(rows) if not row]
    period, weeks, sessions = rows[:blank[0]], rows[blank[0] + 1:blank[1]], rows[blank[1] + 1:]
    assert period[0] == ["Period"]
    info = dict(zip(period[1], period[2]))
    assert info["from"] == "2026-11-02" and info["to"] == "2026-11-13" and info["sessions"] == "6"
    assert info["sessions per week planned"] == "3" and info["stopped for pain"] == "1"
    assert info["pain trend"] == "rising"
    assert weeks[:2] == [["Weeks"], ["week", "monday", "sessions", "planned", "met"]]
    assert weeks[2:] == [["2026-W45", "2026-11-02", "3", "3", "yes"],
                         ["2026-W46", "2026-11-09", "2", "3", "no"]]
    table = [dict(zip(sessions[1], row)) for row in sessions[2:]]
    assert [row["Knee rolls"] for row in table] == ["3", "3", "4", "4", "3", "3"]
    assert [row["pain"] for row in table] == ["2", "2", "3", "6", "4", ""]
    assert [row["pain_change"] for row in table] == ["", "+0", "+1", "+3", "-2", ""]
    assert table[3]["ended"] == "stopped for pain" and table[3]["stopped_in"] == "Knee rolls"
    assert table[5]["ended"] == "stopped (q)" and table[0]["length_min"] == "10.2"


def test_a_period_picks_its_sessions(recorded):
    out = recorded / "week.csv"
    assert cli_runner().invoke(cli, ["report", "back-pain", "-o", str(out), "--from", "2026-11-09",
                                     "--to", "2026-11-15"]).exit_code == 0
    text = out.read_text()
    assert "2026-11-04" not in text and "2026-11-09 18:00" in text


@pytest.mark.parametrize("args, message", [
    (["-o", "r.csv", "--from", "2026-01-01", "--to", "2026-01-31"],
     "no sessions of back-pain from 2026-01-01 to 2026-01-31; nothing written"),
    (["-o", "r.pdf"], "-o: a report is .html or .csv, got '.pdf' in 'r.pdf'"),
    (["-o", "r.csv", "--from", "1 November"], "--from: not a day such as 2026-11-01, got '1 November'"),
    (["-o", "r.csv", "--from", "2026-11-10", "--to", "2026-11-01"], "--to: 2026-11-01 is before --from 2026-11-10"),
    (["-o", "missing/r.html"], "-o: the folder 'missing' does not exist"),
])
def test_bad_input_is_one_line_and_writes_nothing(recorded, monkeypatch, args, message):
    monkeypatch.chdir(recorded)
    before = sorted(p.name for p in recorded.iterdir())
    done = cli_runner().invoke(cli, ["report", "back-pain", *args])
    assert (done.exit_code, done.stderr) == (2, f"Error: {message}\n")
    assert sorted(p.name for p in recorded.iterdir()) == before


def test_no_sessions_at_all_is_an_error(tmp_path):
    done = cli_runner().invoke(cli, ["report", "back-pain", "-o", str(tmp_path / "r.html")])
    assert (done.exit_code, done.stderr) == (2, "Error: no sessions of back-pain recorded yet; nothing written\n")
    assert not (tmp_path / "r.html").exists()


def test_the_html_is_one_file_with_its_charts_inline(recorded):
    out = recorded / "report.html"
    assert cli_runner().invoke(cli, ["report", "back-pain", "-o", str(out)]).exit_code == 0
    page = out.read_text()
    assert page.count("<svg ") == 2 and "<script" not in page and "src=" not in page
    assert "href=" not in page  # nothing outside the file
    assert "@media print" in page and "@page" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif((CHROMIUM is None or shutil.which("pdftotext") is None) and not CI,
                                   reason="chromium and pdftotext are not installed (CI installs them)")


@pytest.mark.slow
@needs_browser
def test_the_html_prints_in_a_real_browser(recorded):
    out = recorded / "report.html"
    assert cli_runner().invoke(cli, ["report", "back-pain", "-o", str(out)]).exit_code == 0
    pdf = recorded / "report.pdf"
    profile = recorded / "chromium-profile"  # a fresh profile: nothing of anyone's
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", f"--user-data-dir={profile}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", out.as_uri()],
                   check=True, capture_output=True, timeout=120)
    # -raw: the text in the order it was drawn, so a table cell that wraps reads as one
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    flowing = re.sub(r"-\s+", "-", " ".join(text.split()))  # a cell's "Cat-cow" may break after "-"
    for expected in ("Exercise report: back-pain", "From 2026-11-02 to 2026-11-13: 6 sessions.",
                     "3 sessions a week", "5 of 6 sessions (83%) over the last 2 finished weeks",
                     "1: 2026-11-09 in Knee rolls", "Pain from 2 to 4 over 5 scored sessions: rising.",
                     "2026-W46", "Single leg hug", "stopped for pain in Knee rolls", "stopped (q) in Cat-cow"):
        assert expected in flowing, expected
    pages = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "pts (A4)" in pages  # the print layout's page size, as pdfinfo names it
