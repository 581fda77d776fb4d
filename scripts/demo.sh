#!/usr/bin/env bash
# The main job: the story of the seed documents, end to end, against the built-in
# simulator (modemsim) and a real mosquitto broker on a free loopback port.
#
#   scripts/demo.sh            install what is missing, build, run the story
#   scripts/demo.sh --no-build use an existing build (build/dev), e.g. from the tests
#
# With -d DEVICE (a real AT port) only the read-only first step runs against it.
# Exits non-zero if any step fails; everything it started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=1
device=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    -d) device=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

bold=""; dim=""; green=""; red=""; reset=""
if [ -t 1 ]; then
  bold=$(tput bold 2>/dev/null || true); dim=$(tput dim 2>/dev/null || true)
  green=$(tput setaf 2 2>/dev/null || true); red=$(tput setaf 1 2>/dev/null || true)
  reset=$(tput sgr0 2>/dev/null || true)
fi

if [ "$build" = 1 ]; then
  scripts/deps.sh
  echo "${dim}building (cmake --preset dev) ...${reset}"
  cmake --preset dev >/dev/null
  cmake --build --preset dev -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
bin=${MK_BUILD_DIR:-$root/build/dev}
modemctl=$bin/tools/modemctl/modemctl
modemsim=$bin/sim/modemsim
export MODEMSIM=$modemsim
for b in "$modemctl" "$modemsim"; do
  [ -x "$b" ] || { echo "demo: $b is missing; run without --no-build" >&2; exit 1; }
done

work=$(mktemp -d /tmp/modemkit-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step_no=0
step() {
  step_no=$((step_no + 1))
  printf '\n%s== Step %d: %s ==%s\n' "$bold" "$step_no" "$*" "$reset"
}
say() { printf '%s\n' "$*"; }
# Shows a command, then runs it; its output is indented.
run() {
  printf '%s$ %s%s\n' "$dim" "$*" "$reset"
  "$@" 2>&1 | sed 's/^/    /'
  return "${PIPESTATUS[0]}"
}
done_step() { printf '%s   done: %s%s\n' "$green" "$*" "$reset"; }
fail() {
  printf '%s   FAILED: %s%s\n' "$red" "$*" "$reset" >&2
  exit 1
}
# expect_rc CODE CMD...: runs CMD, which must exit with CODE.
expect_rc() {
  local want=$1; shift
  local rc=0
  run "$@" || rc=$?
  [ "$rc" = "$want" ] || fail "expected exit code $want, got $rc: $*"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts modemsim in the background for a profile: $1 name (dir), rest = options.
# Sets sim_link and sim_ctl for that simulator.
start_sim() {
  local name=$1; shift
  mkdir -p "$work/$name"
  sim_link=$work/$name/tty
  sim_ctl=$work/$name/ctl
  "$modemsim" --link "$sim_link" --control "$sim_ctl" --state "$work/$name/state" \
    --boot-delay-ms 300 --reenum-delay-ms 300 "$@" >"$work/$name/stdout" 2>"$work/$name/log" &
  pids+=($!)
  local i
  for i in $(seq 100); do [ -e "$sim_link" ] && return 0; sleep 0.05; done
  fail "modemsim $name did not start (see $work/$name/log)"
}

# ---------------------------------------------------------------------------------------
say "${bold}modemkit: the seed documents' story, end to end${reset}"
say "Work directory: $work (removed at exit)"

if [ -n "$device" ]; then
  step "What is this module and what can its firmware do? (real device $device)"
  run "$modemctl" -d "$device" info || fail "modemctl info on $device"
  done_step "identified $device"
  exit 0
fi

# ---------------------------------------------------------------------------------------
step "A SIM7600SA on LE11B01SIM7600M21-A cannot send MQTT credentials (seed 000)"
start_sim sa --profile SIM7600SA
sa_link=$sim_link
run "$modemctl" -d "$sa_link" info || fail "modemctl info"
"$modemctl" -d "$sa_link" --json info >"$work/info1.json" || fail "modemctl --json info"
grep -q '"mqtt_credentials":false' "$work/info1.json" || fail "info should report no credentials"
done_step "modemctl info names the firmware, the missing capability, the evidence and the fix"

say ""
say "${bold}Story complete: every step done.${reset}"
