#!/usr/bin/env bash
# The README's two commands on a really fresh Debian 12: a minimal root (debootstrap
# --variant=minbase) with only git and python3 installed, a clone of this repository's
# committed HEAD in it, and the first two ```sh blocks of that clone's README run in the
# clone exactly as written. Fails on any error. No sound device exists in it, so the first
# command must end in the one-line no-device error and a written back-pain.mp3.
#
# Usage: scripts/fresh-debian.sh [--repo PATH]   (PATH: another clone; default: this one)
# Runs as root (re-runs itself through sudo otherwise). The root reaches the package
# archive and the Python package index the way this machine does: its Debian mirror (from
# apt's sources), apt's Acquire settings, its CA certificates, proxy variables, and pip's
# configuration (files, PIP_* variables, and the local folders they name, mounted read-only).
#
# Cached between runs, in /var/cache/voicecoach-fresh-debian: the debootstrapped root (as a
# tarball, made again when a month old; every run starts from a clean copy of it), downloaded
# .deb files and pip's HTTP cache. Nothing built is reused: pip's wheel cache is emptied first.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env bash "$0" "$@"
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" = "--repo" ]; then
  repo="$(cd "$2" && pwd)"
fi
SUITE=bookworm
CACHE=/var/cache/voicecoach-fresh-debian
CLONE=/root/voicecoach
start_s=$SECONDS
say() { printf 'fresh-debian: [%3ss] %s\n' "$((SECONDS - start_s))" "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

# -- the machine's Debian archives, read from apt's sources ------------------------------------

apt_sources() {  # prints "URI SUITE" for every enabled deb entry
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$file"
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no") { n = split(uris, u, " "); m = split(suites, s, " ");
                            for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print u[a], s[b] } types = uris = suites = enabled = "" }
         /^[[:space:]]*$/ { flush(); next }
         /^[[:space:]]*#/ { next }
         { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
           if (key == "types") types = $0; if (key == "uris") uris = $0
           if (key == "suites") suites = $0; if (key == "enabled") enabled = tolower($0) }
         END { flush() }' "$file"
  done
}
archive_for() { apt_sources | awk -v suite="$1" '$2 == suite { print $1; exit }'; }
mirror="$(archive_for "$SUITE")"
[ -n "$mirror" ] || fail "no '$SUITE' entry in this machine's apt sources (/etc/apt/sources.list*)"
updates="$(archive_for "$SUITE-updates")"
security="$(archive_for "$SUITE-security")"

# -- tools on this machine --------------------------------------------------------------------

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi
commit="$(git -C "$repo" rev-parse HEAD)"

# -- a clean copy of the minimal root ---------------------------------------------------------

mkdir -p "$CACHE/apt-archives/partial" "$CACHE/pip"
key="$(printf '%s %s minbase' "$mirror" "$SUITE" | sha256sum | cut -c1-12)"
tarball="$CACHE/$SUITE-minbase-$key.tar"
work="$(mktemp -d /var/tmp/voicecoach-fresh-debian.XXXXXX)"
root="$work/root"
# In memory where the kernel lets us (dpkg's many fsyncs cost nothing there, and removing
# the root afterwards is one unmount); on disk otherwise.
mount -t tmpfs -o size=10g,mode=700 fresh-debian "$work" 2>/dev/null || true
mkdir "$root"

mounted_under_work() { awk -v r="$work" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r; }
cleanup() {
  local pid
  for pid in /proc/[0-9]*; do  # what the commands left running in the root (test daemons)
    [ "$(readlink "$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "${pid#/proc/}" 2>/dev/null
  done
  sleep 0.2
  local point
  for point in $(mounted_under_work); do umount "$point" 2>/dev/null || umount -l "$point"; done
  if [ -z "$(mounted_under_work)" ]; then
    rm -rf --one-file-system "$work"
  else
    echo "fresh-debian: still mounted under $work, left in place" >&2
  fi
}
trap cleanup EXIT

# A month old, it is made again: a fresh install gets the current point release.
find "$CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar" -mtime +30 -delete
if [ ! -f "$tarball" ]; then
  say "debootstrap --variant=minbase $SUITE from $mirror (cached afterwards in $CACHE)"
  debootstrap --variant=minbase --cache-dir="$CACHE/apt-archives" "$SUITE" "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  rm -f "$work/bootstrap/var/cache/apt/archives/"*.deb
  tar --numeric-owner -C "$work/bootstrap" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf --one-file-system "$work/bootstrap"
fi
say "a clean minimal root from $tarball"
tar --numeric-owner -C "$root" -xf "$tarball"

# -- reaching the archive and the package index as this machine does --------------------------

{
  echo "deb $mirror $SUITE main"
  [ -z "$updates" ] || echo "deb $updates $SUITE-updates main"
  [ -z "$security" ] || echo "deb $security $SUITE-security main"
} >"$root/etc/apt/sources.list"
rm -f "$root/etc/apt/sources.list.d/"*
for file in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do  # proxies, Check-Valid-Until, ...
  [ -f "$file" ] && grep -qE '^[^/#]*(Acquire|Proxy)' "$file" && cp "$file" "$root/etc/apt/apt.conf.d/"
done
mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp -aL /etc/ssl/certs/. "$root/etc/ssl/certs/" 2>/dev/null || true
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
[ -f /etc/hosts ] && cp /etc/hosts "$root/etc/hosts"

user_home="$(getent passwd "${SUDO_USER:-root}" | cut -d: -f6)"
pip_files=()
for file in /etc/pip.conf /etc/xdg/pip/pip.conf "${PIP_CONFIG_FILE:-}" \
            "$user_home/.config/pip/pip.conf" "$user_home/.pip/pip.conf"; do
  [ -n "$file" ] && [ -f "$file" ] || continue
  case "$file" in
    "$user_home"/*) target="/root${file#"$user_home"}" ;;
    *) target="$file" ;;
  esac
  mkdir -p "$root$(dirname "$target")"
  cp "$file" "$root$target"
  pip_files+=("$file")
done
[ -d /etc/xdg/pip ] && mkdir -p "$root/etc/xdg" && cp -a /etc/xdg/pip "$root/etc/xdg/"
pass_env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          LANG=C.UTF-8 TERM="${TERM:-dumb}")
while IFS='=' read -r name _; do
  case "$name" in
    PIP_* | http_proxy | https_proxy | no_proxy | all_proxy | HTTP_PROXY | HTTPS_PROXY | NO_PROXY | ALL_PROXY | CI)
      pass_env+=("$name=${!name}") ;;
  esac
done < <(env)

# -- mounts: kernel file systems, a /dev without sound devices, the caches, local package dirs --

mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t tmpfs -o mode=755,nosuid dev "$root/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<<"$node"
  mknod -m 666 "$root/dev/$name" c "$major" "$minor"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
for n in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${n%%:*}" "$root/dev/${n#*:}"; done
mkdir -p "$root/run/shm" && mount --bind "$root/dev/shm" "$root/run/shm"

mount --bind "$CACHE/apt-archives" "$root/var/cache/apt/archives"
rm -rf "$CACHE/pip/wheels"
mkdir -p "$root/root/.cache/pip" && mount --bind "$CACHE/pip" "$root/root/.cache/pip"
# Local folders the pip configuration names (find-links, file:// indexes): the same, read-only.
{ cat "${pip_files[@]}" /dev/null; env | grep '^PIP_' || true; } |
  grep -oE '(file://)?/[^[:space:]"'\'',;]+' | sed 's|^file://||' | sort -u |
  while read -r path; do
    [ -d "$path" ] || continue
    [ "$(basename "$path")" = simple ] && path="$(dirname "$path")"  # its pages link to ../files
    case "$path" in /etc/* | /root/* | /home/*) continue ;; esac
    [ -e "$root$path" ] && continue
    mkdir -p "$root$path"
    mount --bind "$path" "$root$path"
    mount -o remount,bind,ro "$root$path"
    echo "fresh-debian: pip's $path, mounted read-only"
  done

in_root() { chroot "$root" /usr/bin/env -i "${pass_env[@]}" "$@"; }

# -- only git and python3, then a clone of the committed HEAD --------------------------------

say "apt-get install git python3"
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get update"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git python3 >>"$work/apt.log" 2>&1 ||
  { tail -30 "$work/apt.log" >&2; fail "apt-get install git python3"; }
git clone -q --bare --no-hardlinks "$repo" "$root/tmp/voicecoach.git"
in_root git clone -q /tmp/voicecoach.git "$CLONE"
in_root git -C "$CLONE" checkout -q "$commit"
rm -rf "$root/tmp/voicecoach.git"
say "cloned $commit"

# -- the README's first two ```sh blocks, as written -----------------------------------------

awk -v out="$work/command-" '/^```sh[[:space:]]*$/ && !inside { n++; inside = 1; if (n > 2) exit; next }
                             inside && /^```/ { inside = 0; next }
                             inside { print > (out n) }' "$root$CLONE/README.md"
[ -s "$work/command-1" ] && [ -s "$work/command-2" ] || fail "the README has fewer than two \`\`\`sh blocks"

for n in 1 2; do
  command="$(cat "$work/command-$n")"
  say "README command $n: $command"
  status=0
  in_root bash -c "cd $CLONE && $command" 2>&1 | tee "$work/output-$n" || status=$?
  [ "$status" -eq 0 ] || fail "README command $n exited with status $status"
  if [ "$n" = 1 ]; then  # no sound device here: the one-line error, then the exported file
    grep -q '^Error: no sound device' "$work/output-1" || fail "command 1 did not say there is no sound device"
    tail -1 "$work/output-1" | grep -q '^Wrote back-pain.mp3 ' || fail "command 1 did not end by writing back-pain.mp3"
    length_s="$(in_root ffprobe -v error -show_entries format=duration -of csv=p=0 "$CLONE/back-pain.mp3")"
    awk -v s="$length_s" 'BEGIN { exit !(s > 60) }' || fail "back-pain.mp3 lasts ${length_s:-?} s"
    say "back-pain.mp3 is ${length_s} s long"
  fi
done
say "passed: both README commands work on a fresh Debian 12 (total $((SECONDS - start_s)) s)"
