#!/usr/bin/env bash
# Runs systemd/probed.service, byte for byte as shipped, under a real systemd (Debian 12's 252)
# booted with systemd-nspawn, and checks what the unit promises:
#   - `systemctl start` returns with the unit active (running), i.e. probed sent READY=1, and
#     `systemctl status` shows probed's STATUS=;
#   - /healthz answers 200 and a check of a loopback target (an http.server unit in the
#     container) comes up, and so does a ping of 127.0.0.1 (ICMP with no capability: the
#     container's net.ipv4.ping_group_range, set as docs/operations.md says);
#   - `systemctl reload` goes RELOADING=1 -> READY=1 and applies the new file; an invalid file
#     fails the reload and the daemon keeps running the old monitors;
#   - a daemon frozen with SIGSTOP is killed by the watchdog and restarted;
#   - `systemctl stop` ends with status 0 within TimeoutStopSec;
#   - no SIGSYS, seccomp or W^X failure in the journal.
# Test-only changes are in a runtime drop-in (/run/systemd/system/probed.service.d/): a refused
# system call kills with SIGSYS (SystemCallErrorNumber= reset) instead of hiding as EPERM, and
# WatchdogSec=6s instead of 30s to keep the run short.
#
# The Debian 12 root (debootstrap --variant=minbase from the host's own Debian mirror) and the
# dependency wheels are cached in $PROBED_CI_CACHE (default /var/cache/probed-ci); each run boots a
# fresh overlay on that root with the wheel built from this checkout. The container has its own
# network namespace (--private-network: loopback only, no host ports) and is powered off (or
# killed) on exit, failure and interruption included.
# Needs root, debootstrap and systemd-container. Where namespaces cannot be created (no
# permission), it prints a "skipped" line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bump when the way the root is built changes: it is part of the cache key.
root_version=1
suite=bookworm
packages=systemd,systemd-sysv,python3,python3-venv
cache=${PROBED_CI_CACHE:-/var/cache/probed-ci}
port=9925          # probed's listen address, inside the container's own network namespace
target_port=8080   # the loopback target, ditto
ct_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

started=$SECONDS
say() { echo "check-systemd: $*"; }
step() { echo "== check-systemd: $* (+$((SECONDS - started))s)"; }

work=""
overlay=""
machine=""
nspawn_pid=""
leader=""

# The container's systemd journal, for failures: what the check saw.
journal_excerpt() {
    [ -n "$leader" ] || return 0
    echo "--- journal (probed.service, last 40 lines up to priority info) ---" >&2
    # Without systemd's debug chatter (sd_notify messages, unit loads, sandbox set-up).
    in_ct journalctl -u probed.service --no-pager -q -o short-monotonic -p info -n 40 >&2 || true
    echo "--- end of journal ---" >&2
}

fail() {
    echo "check-systemd: FAILED: $*" >&2
    journal_excerpt
    exit 1
}

cleanup() {
    local rc=$?
    trap - EXIT
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM: nspawn asks the container's systemd to power off; then kill what is left.
        kill -TERM "$nspawn_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$nspawn_pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$nspawn_pid" 2>/dev/null; then
            say "container did not power off within 10s: killing it"
            [ -z "$leader" ] || kill -KILL "$leader" 2>/dev/null || true
            kill -KILL "$nspawn_pid" 2>/dev/null || true
        fi
        wait "$nspawn_pid" 2>/dev/null || true
        say "container powered off (+$((SECONDS - started))s)"
    fi
    if [ "$rc" -ne 0 ] && [ -n "$work" ] && [ -s "$work/console.log" ]; then
        echo "--- container console (last 30 lines) ---" >&2
        tail -n 30 "$work/console.log" >&2 || true
    fi
    if [ -n "$overlay" ] && ! umount "$overlay"; then
        say "could not unmount $overlay: $work left in place"
        work=""
    fi
    [ -z "$work" ] || rm -rf --one-file-system "$work"
    # nspawn leaves this behind when the host's /run is not a tmpfs.
    [ -z "$machine" ] || rm -rf "/run/systemd/nspawn/propagate/$machine"
    [ -z "$work" ] || say "work directory removed (+$((SECONDS - started))s)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A command inside the booted container: all its namespaces, a clean environment.
in_ct() {
    nsenter --target "$leader" --all -- \
        env -i PATH="$ct_path" LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 NO_COLOR=1 "$@"
}

prop() { # prop NAME: one property of probed.service
    in_ct systemctl show probed.service -p "$1" --value
}

# `probed status --json` of the daemon in the container, as "name=state" words.
monitor_states() {
    in_ct probed status --url "http://127.0.0.1:$port" --json 2>&1 |
        python3 -c 'import json, sys
text = sys.stdin.read()
try:
    print(" ".join(m["name"] + "=" + m["state"] for m in json.loads(text)["monitors"]))
except ValueError:
    print("no answer: " + text.strip().replace("\n", " "))'
}

wait_states() { # wait_states EXPECTED SECONDS: until the monitors read exactly EXPECTED
    local expected=$1 seconds=$2 seen="" deadline=$((SECONDS + $2))
    while :; do
        seen=$(monitor_states)
        [ "$seen" = "$expected" ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.5
    done
    fail "monitors are \"$seen\" after ${seconds}s, expected \"$expected\""
}

healthz() {
    in_ct python3 -c 'import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as r:
    sys.exit(f"{r.code} {r.read().decode()}")
except OSError as e:
    sys.exit(str(e))
print(r.status, r.read().decode())' "http://127.0.0.1:$port/healthz"
}

# Matching without pipes from a writer into `grep -q` or `grep -m 1`, which can stop reading
# early and, under pipefail, fail the pipeline with the writer's SIGPIPE.
has() { grep -qE -- "$2" <<<"$1"; }                        # has TEXT REGEX
first() { grep -E -- "$2" <<<"$1" | sed -n 1p || true; }  # first TEXT REGEX: the first line
cursor() { in_ct journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'; }
journal_since() { # journal_since CURSOR: probed.service's lines since then
    in_ct journalctl -u probed.service --no-pager -q -o cat --after-cursor="$1"
}

step "namespaces"
# The only reason to skip: this machine cannot create the namespaces a container needs.
if ! probe=$(unshare --mount --pid --net --uts --ipc --fork true 2>&1); then
    say "skipped: cannot create namespaces here ($probe); no container can boot"
    exit 0
fi
for tool in debootstrap systemd-nspawn nsenter flock; do
    command -v "$tool" >/dev/null || fail "$tool not found (apt-get install debootstrap systemd-container util-linux)"
done
nspawn_version=$(systemd-nspawn --version)
say "${nspawn_version%%$'\n'*}"

step "Debian 12 root"
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9   # one builder at a time; released once this run's root and wheels are ready
key=$(printf '%s\n' "$root_version" "$suite" "$packages" | sha256sum | cut -c1-12)
base=$cache/debian12-$key
if [ -e "$base/.complete" ]; then
    say "cached: $base"
else
    # (awk reads to the end: an early exit would SIGPIPE apt-get and, with pipefail, fail here.)
    # shellcheck disable=SC2016 # $(...) is apt-get's own format syntax
    mirror=${PROBED_CI_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
        'Created-By: Packages' | awk -v s="$suite" '$2 == s && $3 == "main" && !n++ { print $1 }')}
    [ -n "$mirror" ] || fail "no Debian $suite main archive in the host's apt sources (set PROBED_CI_MIRROR)"
    say "building $base: debootstrap --variant=minbase --include=$packages $suite from $mirror"
    t=$SECONDS
    rm -rf "$base.tmp"
    if ! debootstrap --variant=minbase --include="$packages" "$suite" "$base.tmp" "$mirror" \
        >"$cache/debootstrap.log" 2>&1; then
        tail -n 30 "$cache/debootstrap.log" >&2
        fail "debootstrap failed (log: $cache/debootstrap.log)"
    fi
    rm -f "$base.tmp"/var/cache/apt/archives/*.deb
    touch "$base.tmp/.complete"
    mv "$base.tmp" "$base"
    say "built in $((SECONDS - t))s"
fi
# Roots built for other package lists or script versions, unused for a day, are stale (a run of
# another version may still be using one that is newer).
touch "$base/.used"
for old in "$cache"/debian12-*; do
    if [ "$old" != "$base" ] && [ -z "$(find "$old/.used" -mmin -1440 2>/dev/null)" ]; then
        rm -rf "$old"
    fi
done

work=$(mktemp -d /var/tmp/probed-ci-systemd.XXXXXX)
root=$work/root
machine=probed-ci-${work##*.}
# Each run boots a fresh root: an overlay on the cached one (a copy where overlayfs is missing).
mkdir -p "$root" "$work/upper" "$work/overlay-work"
if mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/overlay-work" \
    "$root" 2>/dev/null; then
    overlay=$root
    say "fresh root: an overlay on the cached one at $root"
else
    cp -a "$base/." "$root"
    say "fresh root: a copy of the cached one at $root (no overlayfs here)"
fi

step "wheel"
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
mkdir -p "$work/src" "$work/dist" "$cache/wheels"
# From a copy of the checkout: setuptools would leave build/ in it, and a stale build/lib (a
# module deleted since) would end up in the next wheel.
tar -cf - --exclude=./.git --exclude=./.venv --exclude=./build --exclude='./*.egg-info' \
    --exclude=./.mypy_cache --exclude=./.ruff_cache --exclude=./.pytest_cache --exclude=./.hypothesis . |
    tar -xf - -C "$work/src"
"$python" -m pip wheel -q --no-deps -w "$work/dist" "$work/src" >"$work/wheel.log" 2>&1 || {
    cat "$work/wheel.log" >&2
    fail "pip wheel --no-deps . failed"
}
wheel=$(cd "$work/dist" && echo probed-*.whl)
[ -f "$work/dist/$wheel" ] || fail "no wheel in $work/dist: $(ls "$work/dist")"
say "built $wheel"

step "install into the root"
# A venv in the root; /usr/local/bin/probed points at it, so ExecStart=/ExecReload= work as
# shipped. pip inside the root installs from the wheel cache only (--no-index); when the cache
# lacks a dependency, the host's pip (with the host's own index and certificate settings) fetches
# it into the cache, for the container's Python (Debian 12's 3.11, as the host's must be).
install -d "$root/mnt/dist" "$root/mnt/wheels"
install_in_root() {
    systemd-nspawn -q --register=no --keep-unit --console=pipe -D "$root" -M "$machine" \
        --bind-ro="$work/dist:/mnt/dist" --bind-ro="$cache/wheels:/mnt/wheels" \
        --setenv=PIP_DISABLE_PIP_VERSION_CHECK=1 --setenv=PIP_ROOT_USER_ACTION=ignore \
        --setenv=PIP_CONFIG_FILE=/dev/null \
        /bin/sh -euc '
[ -x /opt/probed/venv/bin/pip ] || python3 -m venv /opt/probed/venv
/opt/probed/venv/bin/pip install -q --no-index --find-links /mnt/wheels "/mnt/dist/$1"
ln -sf /opt/probed/venv/bin/probed /usr/local/bin/probed
echo "check-systemd: installed $(/usr/local/bin/probed --version) with $(python3 --version)"
' sh "$wheel" >"$work/install.log" 2>&1
}
if install_in_root; then
    say "dependencies from the wheel cache $cache/wheels"
else
    say "the wheel cache lacks dependencies: downloading them with the host's pip"
    host_py=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$host_py" = 3.11 ] || fail "the host's Python is $host_py; the wheels must be for 3.11 (set PYTHON)"
    "$python" -m pip wheel -q -w "$cache/wheels" "$work/dist/$wheel" >"$work/download.log" 2>&1 || {
        cat "$work/download.log" >&2
        fail "pip wheel (dependencies of $wheel) failed"
    }
    rm -f "$cache/wheels/$wheel"   # this checkout's wheel is built afresh every run
    install_in_root || {
        cat "$work/install.log" >&2
        fail "installing $wheel into the root failed"
    }
fi
grep -v 'Attempted to remove disk file system' "$work/install.log" || true
flock -u 9
exec 9>&-

install -m 0644 systemd/probed.service "$root/etc/systemd/system/probed.service"
cmp systemd/probed.service "$root/etc/systemd/system/probed.service" ||
    fail "the installed unit differs from systemd/probed.service"
install -d -m 0755 "$root/etc/probed" "$root/srv/ci-target"
echo "probed CI target: all good" >"$root/srv/ci-target/index.html"
# The loopback target: a tiny HTTP server, a unit of its own, started at boot.
cat >"$root/etc/systemd/system/ci-target.service" <<EOF
[Unit]
Description=probed CI: loopback HTTP target
[Service]
ExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory /srv/ci-target $target_port
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/ci-target.service "$root/etc/systemd/system/multi-user.target.wants/ci-target.service"

# monitors.toml as the unit expects it (/etc/probed/monitors.toml, 0644): loopback only.
write_config() { # write_config FILE MONITOR...: one http monitor of the target per name
    {             # ("ping": a ping monitor of 127.0.0.1 instead)
        printf '[probed]\nlisten = "127.0.0.1:%s"\n\n[defaults]\ninterval = "2s"\n' "$port"
        local name
        for name in "${@:2}"; do
            if [ "$name" = ping ]; then
                printf '\n[[monitor]]\nname = "ping"\ntype = "ping"\nurl = "icmp://127.0.0.1"\n'
                continue
            fi
            printf '\n[[monitor]]\nname = "%s"\nurl = "http://127.0.0.1:%s/"\n' "$name" "$target_port"
        done
    } >"$1"
}
# The ping monitor proves ICMP from the hardened unit, with no capability: the sysctl that
# docs/operations.md has people set lets every group open ICMP datagram sockets (Debian 12 leaves
# net.ipv4.ping_group_range at "1 0"); it is per network namespace, so the container's own.
install -d -m 0755 "$root/etc/sysctl.d"
echo 'net.ipv4.ping_group_range = 0 2147483647' >"$root/etc/sysctl.d/60-probed-ping.conf"
write_config "$root/etc/probed/monitors.toml" target ping
chmod 0644 "$root/etc/probed/monitors.toml"

step "boot"
# No machined and no systemd on the host: --register=no --keep-unit; nsenter drives it.
systemd-nspawn -q -b --private-network --register=no --keep-unit --console=read-only \
    -D "$root" -M "$machine" >"$work/console.log" 2>&1 &
nspawn_pid=$!
# The container's PID 1 is the child of nspawn that lives in another PID namespace.
own_pidns=$(readlink /proc/self/ns/pid)
for _ in $(seq 100); do
    kill -0 "$nspawn_pid" 2>/dev/null || fail "systemd-nspawn exited early"
    for child in $(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null); do
        if [ "$(readlink "/proc/$child/ns/pid" 2>/dev/null)" != "$own_pidns" ] &&
            [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ]; then
            leader=$child
        fi
    done
    [ -n "$leader" ] && break
    sleep 0.1
done
[ -n "$leader" ] || fail "no container PID 1 under systemd-nspawn (pid $nspawn_pid) after 10s"
# Until PID 1 has set up /run/systemd ("offline") and its private socket ("Failed to connect"),
# systemctl cannot wait for the boot: ask again.
deadline=$((SECONDS + 120))
while :; do
    system=$(timeout 120 nsenter --target "$leader" --all -- \
        env -i PATH="$ct_path" systemctl is-system-running --wait 2>&1) || true
    case $system in
        offline | *"Failed to connect to bus"*) [ "$SECONDS" -lt "$deadline" ] || break ;;
        *) break ;;
    esac
    sleep 0.5
done
case $system in
    running | degraded) ;;
    *) fail "the container's systemd did not finish booting: \"$system\"" ;;
esac
if [ "$system" = degraded ]; then
    say "failed units at boot: $(in_ct systemctl --failed --plain --no-legend | tr '\n' ' ')"
fi
systemd_version=$(in_ct systemctl --version)
say "booted: ${systemd_version%%$'\n'*}, system $system, PID 1 on the host: $leader"
[ "$(in_ct systemctl is-active ci-target.service)" = active ] || fail "the loopback target did not start"
checked=$(in_ct probed check -c /etc/probed/monitors.toml 2>&1) ||
    fail "probed check of the container's monitors.toml: $checked"

step "start"
in_ct systemctl log-level debug   # the journal then records each sd_notify message
in_ct sh -c 'mkdir -p /run/systemd/system/probed.service.d &&
    cat >/run/systemd/system/probed.service.d/50-ci.conf' <<'EOF'
# CI only. A system call the filter refuses kills probed with SIGSYS instead of failing with
# EPERM, so that a missing syscall cannot hide; a 6 s watchdog keeps the watchdog test short.
[Service]
SystemCallErrorNumber=
WatchdogSec=6s
EOF
in_ct systemctl daemon-reload
dropins=$(prop DropInPaths)
[ "$dropins" = /run/systemd/system/probed.service.d/50-ci.conf ] ||
    fail "the CI drop-in is not the only one in effect: \"$dropins\""
t=$SECONDS
in_ct systemctl start probed.service || fail "systemctl start probed failed"
state="$(prop ActiveState) ($(prop SubState))"
[ "$state" = "active (running)" ] || fail "after start the unit is $state"
has "$(in_ct journalctl -u probed.service -q -o cat --no-pager)" 'Got notification message.*READY=1' ||
    fail "no READY=1 from probed in the journal"
say "active (running) after $((SECONDS - t))s: READY=1 received"
status=$(in_ct systemctl status probed.service --no-pager -l -n 0 || true)
status_line=$(printf '%s\n' "$status" | grep -E '^ +Status: "' || true)
[ -n "$status_line" ] || { printf '%s\n' "$status" >&2; fail "systemctl status shows no Status: line"; }
say "systemctl status: $(echo "$status_line" | sed 's/^ *//')"
pid=$(prop MainPID)

step "healthz and a loopback check"
health=$(healthz 2>&1) || fail "/healthz: $health"
case $health in 200\ *) ;; *) fail "/healthz answered: $health" ;; esac
say "/healthz: $health"
wait_states "target=up ping=up" 20
say "monitors: $(monitor_states)"
say "ping_group_range in the container: $(in_ct cat /proc/sys/net/ipv4/ping_group_range | tr '\t' ' ')"

step "reload"
c=$(cursor)
write_config "$work/monitors.toml" target target-2
in_ct sh -c 'cat >/etc/probed/monitors.toml' <"$work/monitors.toml"
in_ct systemctl reload probed.service || fail "systemctl reload probed failed"
log=$(journal_since "$c")
notify=$(printf '%s\n' "$log" | grep -oE 'Got notification message from PID [0-9]+ \((RELOADING|READY)=1' |
    grep -oE '(RELOADING|READY)=1' | tr '\n' ' ' || true)
case $notify in
    "RELOADING=1 READY=1"*) ;;
    *) fail "the reload's notifications were \"$notify\", expected RELOADING=1 then READY=1" ;;
esac
has "$log" 'Changed reload -> running' ||
    fail "the unit did not go from reload back to running"
has "$log" '"event": "reloaded"' || fail "probed did not log \"reloaded\""
[ "$(prop MainPID)" = "$pid" ] || fail "the reload changed the main PID"
say "reload: $notify(unit: running -> reload -> running)"
wait_states "target=up target-2=up" 20
say "monitors: $(monitor_states)"

step "invalid reload"
c=$(cursor)
write_config "$work/bad.toml" target broken
sed -i 's/^interval = .*/interval = "soon"/' "$work/bad.toml"
in_ct sh -c 'cat >/etc/probed/monitors.toml' <"$work/bad.toml"
if in_ct systemctl reload probed.service 2>"$work/reload.err"; then
    fail "systemctl reload of an invalid file succeeded"
fi
say "systemctl reload failed as it should: $(head -n 1 "$work/reload.err")"
log=$(journal_since "$c")
has "$log" 'not reloaded, the running configuration stays' ||
    fail "the journal does not say the reload was refused"
say "journal: $(first "$log" 'interval')"
state="$(prop ActiveState) ($(prop SubState))"
[ "$state" = "active (running)" ] || fail "after the invalid reload the unit is $state"
[ "$(prop MainPID)" = "$pid" ] || fail "the invalid reload changed the main PID"
wait_states "target=up target-2=up" 10
say "still running the old monitors: $(monitor_states)"
# ExecReload= refused the file before signalling, so probed never saw it: the metric stays 1.
reloaded=$(in_ct python3 -c 'import sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    if line.startswith("probed_config_last_reload_successful "):
        print(line.split()[1])' "http://127.0.0.1:$port/metrics" 2>&1) || true
say "probed_config_last_reload_successful $reloaded"
in_ct sh -c 'cat >/etc/probed/monitors.toml' <"$work/monitors.toml"   # for the restarts below

step "watchdog"
restarts=$(prop NRestarts)
c=$(cursor)
in_ct systemctl kill -s SIGSTOP probed.service
say "SIGSTOP sent to $pid; WatchdogSec=$(prop WatchdogUSec) (CI drop-in)"
t=$SECONDS
while [ $((SECONDS - t)) -lt 40 ]; do
    if [ "$(prop NRestarts)" -gt "$restarts" ] && [ "$(prop SubState)" = running ]; then
        break
    fi
    sleep 0.5
done
# 6 s of watchdog, SIGABRT, RestartSec=5s and the start: about 12 s.
[ "$(prop NRestarts)" -gt "$restarts" ] || fail "no restart within 40s of freezing probed"
[ "$(prop SubState)" = running ] || fail "after the watchdog restart the unit is $(prop SubState)"
new_pid=$(prop MainPID)
[ "$new_pid" != "$pid" ] || fail "the main PID did not change"
log=$(journal_since "$c")
has "$log" 'Watchdog timeout' || fail "no \"Watchdog timeout\" in the journal"
say "$(first "$log" 'Watchdog timeout')"
say "$(first "$log" 'Main process exited')"
say "restarted after $((SECONDS - t))s: pid $pid -> $new_pid, NRestarts=$(prop NRestarts)"
pid=$new_pid
health=$(healthz 2>&1) || fail "/healthz after the restart: $health"
wait_states "target=up target-2=up" 20
say "after the restart: /healthz $health; monitors: $(monitor_states)"

step "stop"
timeout_stop=$(prop TimeoutStopUSec)
c=$(cursor)
t0=$(date +%s%N)
in_ct systemctl stop probed.service || fail "systemctl stop probed failed"
ms=$((($(date +%s%N) - t0) / 1000000))
# Read from the journal: once stopped, the unit may be unloaded and its properties reset.
log=$(journal_since "$c")
exited=$(first "$log" 'Main process exited')
case $exited in
    *"code=exited, status=0/SUCCESS"*) ;;
    *) fail "after stop: \"${exited:-no \"Main process exited\" line}\", expected code=exited, status=0" ;;
esac
has "$log" 'Deactivated successfully' || fail "no \"Deactivated successfully\" after stop"
has "$log" 'STOPPING=1' || fail "probed sent no STOPPING=1"
[ "$ms" -lt 30000 ] || fail "stop took ${ms} ms (TimeoutStopSec=$timeout_stop)"
say "stopped in ${ms} ms (TimeoutStopSec=$timeout_stop): STOPPING=1, $(echo "$exited" | sed 's/^probed.service: //')"

step "sandbox violations"
# Lines from systemd about the unit (a process killed by SIGSYS) and from probed itself (a
# refused mmap/mprotect under MemoryDenyWriteExecute= surfaces as an OSError or MemoryError).
sigsys='SIGSYS|status=31/SYS|Bad system call|seccomp'
refused='MemoryError|PermissionError|Operation not permitted'
# Control: the same filter with the same reset SystemCallErrorNumber= kills a process that makes
# a refused call (sched_setaffinity, in @resources), and the journal says so as grepped for below.
# (No dbus in this root, so no systemd-run: a unit file.)
in_ct sh -c 'cat >/run/systemd/system/ci-sigsys.service' <<'EOF'
[Service]
Type=oneshot
DynamicUser=yes
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=
ExecStart=/usr/bin/python3 -c 'import os; os.sched_setaffinity(0, os.sched_getaffinity(0))'
EOF
in_ct systemctl daemon-reload
if in_ct systemctl start ci-sigsys.service >"$work/control.log" 2>&1; then
    fail "control: a process making a refused system call was not stopped"
fi
control=$(first "$(in_ct journalctl -u ci-sigsys.service -q -o cat --no-pager)" "$sigsys")
[ -n "$control" ] || fail "control: a refused system call left no trace the check would see: \
$(cat "$work/control.log"; in_ct journalctl -u ci-sigsys.service -q -o cat --no-pager)"
say "control: $control"
# Control: MemoryDenyWriteExecute= refuses a writable and executable mapping with EPERM, which
# Python reports as the PermissionError grepped for below.
in_ct sh -c 'cat >/run/systemd/system/ci-wx.service' <<'EOF'
[Service]
Type=oneshot
DynamicUser=yes
MemoryDenyWriteExecute=yes
ExecStart=/usr/bin/python3 -c 'import mmap; mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)'
EOF
in_ct systemctl daemon-reload
if in_ct systemctl start ci-wx.service >"$work/control.log" 2>&1; then
    fail "control: a writable and executable mapping was allowed under MemoryDenyWriteExecute="
fi
control=$(in_ct journalctl -u ci-wx.service -q -o cat --no-pager --identifier=python3)
control=$(grep -E "$refused" <<<"$control" | tail -n 1 || true)
[ -n "$control" ] || fail "control: a W^X refusal left no trace the check would see: \
$(cat "$work/control.log"; in_ct journalctl -u ci-wx.service -q -o cat --no-pager)"
say "control: $control"
probed_log=$(in_ct journalctl -u probed.service -q -o short --no-pager)
found=$(printf '%s\n' "$probed_log" | grep -E "$sigsys" || true)
found+=$(printf '%s\n' "$probed_log" | grep -E ' probed\[[0-9]+\]: ' | grep -E "$refused" || true)
[ -z "$found" ] || fail "sandbox violations in probed's journal: $found"
say "no SIGSYS, seccomp or W^X failure in probed's journal"
# Not a sandbox matter, so not a failure here: probed's own error lines, for the reader.
errors=$(printf '%s\n' "$probed_log" | grep -E ' probed\[[0-9]+\]: .*"level": "(error|critical)"' |
    sed -E 's/.*"event": "(([^"\\]|\\.)*)".*/\1/' || true)
[ -z "$errors" ] || say "note: probed logged errors: $(tr '\n' ';' <<<"$errors")"

say "passed in $((SECONDS - started))s"
