#!/usr/bin/env bash
# A real Docker engine and a Python base image on a machine that has neither, and no registry.
#
#   scripts/docker-setup.sh          install docker.io, start dockerd, build the base image
#   scripts/docker-setup.sh stop     stop the dockerd this script started (and only that one)
#   scripts/docker-setup.sh status   say whether the engine answers and the image exists
#
# Idempotent: every step checks first and is skipped when already done, so a second run takes
# about a second. Works without a terminal (CI=true, no stdin). Needs root.
#
# The base image (interlock/python-base:bookworm) is a minimal Debian bookworm with python3,
# venv and pip, made by debootstrap from the apt mirror this machine is already configured
# with, then `docker import`ed: no image registry is contacted, ever. Its python3 is 3.11, the
# same as the host's, so wheels built on the host install in it.
#
# Settings (environment):
#   INTERLOCK_BASE_IMAGE            image name to build   (default interlock/python-base:bookworm)
#   INTERLOCK_DOCKER_STORAGE_DRIVER force a storage driver (default: dockerd's choice, overlay2
#                                   where the filesystem allows it, else vfs)
#   INTERLOCK_DOCKERD_LOG           dockerd's log file     (default /var/log/interlock-dockerd.log)
#   INTERLOCK_DOCKER_WAIT           seconds to wait for the engine (default 60)
set -euo pipefail

BASE_IMAGE=${INTERLOCK_BASE_IMAGE:-interlock/python-base:bookworm}
LOG=${INTERLOCK_DOCKERD_LOG:-/var/log/interlock-dockerd.log}
PIDFILE=/run/interlock-dockerd.pid
WAIT=${INTERLOCK_DOCKER_WAIT:-60}
SUITE=bookworm
export DEBIAN_FRONTEND=noninteractive

say() { echo "docker-setup: $*"; }
die() { echo "docker-setup: ERROR: $*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd): sudo $0 ${1:-}"
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# --- packages ------------------------------------------------------------------------------

apt_install() {
    # Another apt may be running (a CI step, unattended-upgrades): wait for its lock instead
    # of failing. Update the lists only when the install cannot find the packages.
    local opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
    if ! apt-get install "${opts[@]}" "$@" >/tmp/interlock-apt.log 2>&1; then
        say "apt-get update (package lists are missing or stale)"
        apt-get -o DPkg::Lock::Timeout=600 update -q >>/tmp/interlock-apt.log 2>&1 \
            || { tail -20 /tmp/interlock-apt.log >&2; die "apt-get update failed"; }
        apt-get install "${opts[@]}" "$@" >>/tmp/interlock-apt.log 2>&1 \
            || { tail -20 /tmp/interlock-apt.log >&2; die "apt-get install $* failed"; }
    fi
}

install_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker >/dev/null || missing+=(docker.io)
    command -v iptables >/dev/null || missing+=(iptables)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if [ ${#missing[@]} -eq 0 ]; then
        say "packages: docker.io, iptables, debootstrap already installed"
        return
    fi
    # docker.io brings containerd, runc and tini; iptables is what its bridge networking uses.
    say "installing ${missing[*]} (apt, about 20 s)"
    apt_install "${missing[@]}"
}

# --- the engine ----------------------------------------------------------------------------

check_cgroups() {
    # dockerd needs a mounted cgroup hierarchy (v1 controllers or the v2 unified one). Minimal
    # containers sometimes have /sys/fs/cgroup empty; mount v2 there if nothing is mounted.
    if ! grep -q ' /sys/fs/cgroup' /proc/mounts; then
        say "cgroups: nothing mounted on /sys/fs/cgroup, mounting cgroup2"
        mount -t cgroup2 none /sys/fs/cgroup || die "cannot mount cgroups; dockerd cannot run here"
    fi
}

choose_iptables() {
    # Debian 12 defaults to iptables-nft. Where the kernel lacks nf_tables (some sandboxes and
    # WSL), the legacy backend works; where neither works, dockerd runs with --iptables=false:
    # published ports still work through docker-proxy and containers on one user-defined
    # network still reach each other, only NAT to the outside is lost (which tests never need).
    if iptables -t nat -L -n >/dev/null 2>&1; then
        say "iptables: $(iptables --version)"
        return
    fi
    if command -v iptables-legacy >/dev/null && iptables-legacy -t nat -L -n >/dev/null 2>&1; then
        say "iptables: nf_tables unusable here, switching to iptables-legacy"
        update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
        update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
        return
    fi
    say "iptables: not usable here, starting dockerd with --iptables=false"
    DOCKERD_ARGS+=(--iptables=false --ip-masq=false)
}

start_engine() {
    if engine_answers; then
        say "engine: already answering ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
        return
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        die "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to use a local dockerd"
    fi
    DOCKERD_ARGS=(--host unix:///var/run/docker.sock)
    check_cgroups
    choose_iptables
    if [ -n "${INTERLOCK_DOCKER_STORAGE_DRIVER:-}" ]; then
        DOCKERD_ARGS+=(--storage-driver "$INTERLOCK_DOCKER_STORAGE_DRIVER")
    fi
    mkdir -p "$(dirname "$LOG")"
    say "engine: starting dockerd ${DOCKERD_ARGS[*]} (log: $LOG)"
    # setsid: dockerd outlives this script and the CI step's process group.
    setsid dockerd "${DOCKERD_ARGS[@]}" </dev/null >>"$LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + WAIT))
    until engine_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            tail -25 "$LOG" >&2
            die "dockerd exited at start (its log is above; full log: $LOG)"
        fi
        if [ $SECONDS -ge $deadline ]; then
            tail -25 "$LOG" >&2
            die "dockerd did not answer within ${WAIT}s (pid $pid, log: $LOG)"
        fi
        sleep 0.2
    done
    say "engine: dockerd $(docker version -f '{{.Server.Version}}') answering, pid $pid," \
        "storage driver $(docker info -f '{{.Driver}}')"
}

stop_engine() {
    if [ ! -f "$PIDFILE" ]; then
        say "stop: no dockerd started by this script (no $PIDFILE)"
        return
    fi
    local pid
    pid=$(cat "$PIDFILE")
    if ! kill -0 "$pid" 2>/dev/null || [ "$(cat /proc/"$pid"/comm 2>/dev/null)" != dockerd ]; then
        say "stop: dockerd $pid is already gone"
        rm -f "$PIDFILE"
        return
    fi
    say "stop: stopping dockerd $pid (running containers are stopped with it)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            say "stop: dockerd $pid ignored SIGTERM for 30 s, killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    say "stop: done"
}

# --- the base image ------------------------------------------------------------------------

apt_mirror() {
    # The machine's own Debian mirror for $SUITE, read at run time (never written anywhere):
    # deb822 *.sources stanzas first, then one-line sources.list entries.
    local file uri
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        uri=$(awk -v suite="$SUITE" '
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { if (uris != "" && ok && deb) { print uris; exit } uris=""; ok=0; deb=0; next }
            tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb=1 }
            tolower($1) == "uris:" { uris=$2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok=1 }
            END { if (uris != "" && ok && deb) print uris }' "$file" | head -1)
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        uri=$(awk -v suite="$SUITE" '
            $1 != "deb" { next }
            { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } }
            $(i + 1) == suite { print $i; exit }' "$file")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    return 1
}

build_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "base image: $BASE_IMAGE already exists"
        return
    fi
    local mirror
    mirror=$(apt_mirror) || die "no 'deb' source for $SUITE in /etc/apt/sources.list(.d); cannot debootstrap"
    # debootstrap does not read apt's proxy setting; pass it on if there is one.
    local proxy
    proxy=$(apt-config dump 2>/dev/null | awk -F'"' '/^Acquire::http::Proxy /{print $2; exit}')
    [ -n "$proxy" ] && export http_proxy="$proxy"
    local work
    work=$(mktemp -d /tmp/interlock-base.XXXXXX)
    # shellcheck disable=SC2064  # expand $work now: the trap must remove this very folder
    trap "rm -rf '$work'" EXIT
    local started=$SECONDS
    say "base image: debootstrap $SUITE (minbase + python3) from this machine's apt mirror (about 1 min)"
    if ! debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -20 "$work/debootstrap.log" >&2
        die "debootstrap failed (log above)"
    fi
    # Smaller image, and no mirror host name baked into it: builds from it are offline anyway.
    rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/cache/apt/*.bin \
        "$work/root"/var/lib/apt/lists/* "$work/root"/usr/share/doc/* \
        "$work/root"/usr/share/man/* "$work/root"/usr/share/locale/* \
        "$work/root"/etc/apt/sources.list "$work/root"/etc/apt/sources.list.d/*
    say "base image: importing as $BASE_IMAGE"
    tar -C "$work/root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PYTHONUNBUFFERED=1' \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE" >/dev/null
    rm -rf "$work"
    trap - EXIT
    say "base image: $BASE_IMAGE built in $((SECONDS - started)) s" \
        "($(docker run --rm "$BASE_IMAGE" python3 --version))"
}

say_base_image() {
    # Images of a suite (the demo's, environment/images/*) build FROM this one when told so;
    # `make demo` does it by itself when the variable is unset.
    say "to build images on it (no registry needed), run:"
    echo "export INTERLOCK_BASE_IMAGE=$BASE_IMAGE"
}

status() {
    if engine_answers; then
        say "engine: answering ($(docker version -f '{{.Server.Version}}'))"
    else
        say "engine: not answering"
    fi
    if [ -f "$PIDFILE" ]; then say "dockerd started by this script: pid $(cat "$PIDFILE")"; fi
    if engine_answers && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        say "base image: $BASE_IMAGE present"
        say_base_image
    else
        say "base image: $BASE_IMAGE missing"
    fi
}

case "${1:-start}" in
    start | "")
        need_root
        started=$SECONDS
        install_packages
        start_engine
        build_base_image
        say "ready in $((SECONDS - started)) s"
        say_base_image
        ;;
    stop) need_root stop; stop_engine ;;
    status) status ;;
    *) die "usage: $0 [start|stop|status]" ;;
esac
