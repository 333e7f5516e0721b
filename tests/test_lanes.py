"""The fast lane's fence (tests/lanes.py): outside the slow lane, a test that reaches for a
process or a speech engine fails; every test that ``SLOW_TESTS`` names exists."""

from __future__ import annotations

import ast
import contextlib
import subprocess
import sys

import pytest

from lanes import SLOW_TESTS, FakesOnly, NeedsSlowMark
from support import REPO, requires_espeak


def test_a_process_inside_the_fence_is_refused_and_remembered_even_when_caught():
    before = subprocess.Popen.__init__
    with FakesOnly() as fence:
        with contextlib.suppress(NeedsSlowMark):  # as code under test might swallow it
            subprocess.run([sys.executable, "-c", "pass"])
        with pytest.raises(NeedsSlowMark, match=r"reaches for a process \(subprocess\): mark it slow"):
            subprocess.Popen(["true"])
    assert fence.reached == ["a process (subprocess)"] * 2
    assert subprocess.Popen.__init__ is before  # put back as it was


def test_every_test_outside_the_slow_lane_runs_inside_the_fence(request):
    assert request.node.get_closest_marker("slow") is None
    assert subprocess.Popen.__init__.__qualname__ == "FakesOnly._refuse.<locals>.refuse"


@requires_espeak
def test_espeak_loaded_inside_the_fence_is_refused():
    from voicecoach.speech.engines import make_synthesizer
    with FakesOnly() as fence, pytest.raises(NeedsSlowMark, match="reaches for espeak-ng"):
        make_synthesizer("espeak").synthesize("Hello.")
    assert fence.reached == ["espeak-ng"]


def test_requires_espeak_and_the_servers_put_a_test_in_the_slow_lane(request):
    items = {item.name: item for item in request.session.items}
    for name in ("test_espeak_loaded_inside_the_fence_is_refused", "test_a_child_that_obeys_sigterm_ends_by_it_at_once",
                 "test_a_live_session_ends_with_a_check_in_key_that_is_recorded"):
        if name in items:  # not when only some files were collected
            assert items[name].get_closest_marker("slow"), name


@pytest.mark.parametrize("module", sorted(SLOW_TESTS))
def test_every_test_slow_tests_names_exists(module):
    tree = ast.parse((REPO / "tests" / module).read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    listed = SLOW_TESTS[module]
    assert listed is True or listed <= defined, sorted(set(listed) - defined)
