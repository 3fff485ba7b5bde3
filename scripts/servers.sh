#!/usr/bin/env bash
# Installs the Debian server packages the framework's own tests run (each test starts its own
# instance on a free port): RabbitMQ, Redis, Mosquitto, MariaDB. Idempotent and quick when they
# are already there. Leaves no system service running: services are forbidden to start while
# installing (policy-rc.d), and any that started anyway is stopped and disabled.
#
#   bash scripts/servers.sh        # `make test` runs it
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin:/usr/lib/rabbitmq/bin"
export DEBIAN_FRONTEND=noninteractive

# group | Debian package | a binary it installs | its init/systemd service names
GROUPS_TABLE="
redis|redis-server|redis-server|redis-server
rabbitmq|rabbitmq-server|rabbitmq-server|rabbitmq-server epmd
mosquitto|mosquitto|mosquitto|mosquitto
mariadb|mariadb-server|mariadbd|mariadb mysql
"
# Processes an install could have started (matched by exact process name, then ended by id).
SERVER_PROCESSES="redis-server beam.smp epmd mosquitto mariadbd mysqld"

say() { echo "servers: $*"; }

missing=()
services=()
while IFS='|' read -r group package binary service_names; do
    [ -n "$group" ] || continue
    if command -v "$binary" >/dev/null 2>&1; then
        say "$group: present ($(command -v "$binary"))"
    else
        say "$group: missing, will install $package"
        missing+=("$package")
        # shellcheck disable=SC2206
        services+=($service_names)
    fi
done <<< "$GROUPS_TABLE"

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install ${missing[*]}: needs root and apt-get (Debian/Ubuntu)." >&2
    say "install them with your package manager; tests that need them will say which." >&2
    exit 1
fi

# One installer at a time (a parallel `make test` in another checkout shares the machine).
exec 9>/run/lock/interlock-servers.lock
flock 9

pids_of_servers() {
    for name in $SERVER_PROCESSES; do pgrep -x "$name" || true; done | sort -u
}
before="$(pids_of_servers)"

# Forbid service starts during the install; restore whatever policy was there before.
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then
    saved="$(mktemp)"
    cp -p "$policy" "$saved"
fi
restore_policy() {
    if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by interlock scripts/servers.sh while installing\nexit 101\n' > "$policy"
chmod 755 "$policy"

apt_options=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
lists_present() { compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; }
candidates_known() {
    local package
    for package in "${missing[@]}"; do
        # Not `| grep -q`: with pipefail, grep leaving early would fail the pipeline (SIGPIPE).
        [[ "$(apt-cache policy "$package" 2>/dev/null)" == *"Candidate: "[!\(]* ]] || return 1
    done
}
if ! lists_present || ! candidates_known; then
    say "apt-get update (package lists missing or stale)"
    apt-get update -q >/dev/null
fi
say "installing ${missing[*]} (a minute or two, first time only)"
apt_log="$(mktemp /tmp/interlock-servers-apt.XXXXXX)"
if ! apt-get install "${apt_options[@]}" "${missing[@]}" >"$apt_log" 2>&1; then
    # A stale list points at versions the mirror no longer has: refresh once and retry.
    say "install failed, refreshing package lists and retrying"
    apt-get update -q >/dev/null
    if ! apt-get install "${apt_options[@]}" "${missing[@]}" >"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2
        say "installing ${missing[*]} failed; full log: $apt_log" >&2
        exit 1
    fi
fi
rm -f "$apt_log"

# Services that started anyway (a policy ignored, a socket-activated epmd): stop and disable.
for service in "${services[@]}"; do
    if [ -d /run/systemd/system ]; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
    else
        update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
done
after="$(pids_of_servers)"
stray="$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)"
if [ -n "$stray" ]; then
    say "stopping server processes the install started: $(echo "$stray" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill $stray 2>/dev/null || true
    for _ in $(seq 1 50); do
        alive=""
        for pid in $stray; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
        [ -n "$alive" ] || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -9 $stray 2>/dev/null || true
fi
say "done: ${missing[*]} installed, no service left running"
