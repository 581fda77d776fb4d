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

# A test PKI (CA, broker certificate, device certificate) and a mosquitto with TLS and a
# password file, on a free loopback port. Sets broker_port.
start_broker() {
  local d=$work/broker
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=modemkit demo CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile san.ext -out server.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=logger-0042" -keyout device.key -out device.csr
    openssl x509 -req -in device.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -out device.pem
  ) >"$d/openssl.log" 2>&1 || fail "making the test certificates (see $d/openssl.log)"
  : >"$d/passwd"
  mosquitto_passwd -b "$d/passwd" logger-0042 'field-secret' >/dev/null 2>&1 ||
    fail "mosquitto_passwd"
  mosquitto_passwd -b "$d/passwd" operator 'op-secret' >/dev/null 2>&1
  broker_port=$(free_port)
  cat >"$d/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
cafile $d/ca.pem
certfile $d/server.pem
keyfile $d/server.key
require_certificate true
allow_anonymous false
password_file $d/passwd
persistence false
log_dest file $d/mosquitto.log
# Run as whoever runs the demo (as root, mosquitto would otherwise switch to the user
# "mosquitto" and lose access to these files).
user $(id -un)
CONF
  mosquitto -c "$d/mosquitto.conf" >/dev/null 2>&1 &
  pids+=($!)
  local i
  for i in $(seq 100); do
    grep -q "listen socket on port $broker_port" "$d/mosquitto.log" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "mosquitto did not start (see $d/mosquitto.log)"
}
# mosquitto_pub/sub as the platform's side, with the operator's credentials.
platform_tls() {
  local d=$work/broker
  echo -h 127.0.0.1 -p "$broker_port" --cafile "$d/ca.pem" --cert "$d/device.pem" \
    --key "$d/device.key" -u operator -P op-secret
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
# 921600 baud: the update below moves at a real UART's pace.
start_sim sa --profile SIM7600SA --baud 921600
sa_link=$sim_link
run "$modemctl" -d "$sa_link" info || fail "modemctl info"
"$modemctl" -d "$sa_link" --json info >"$work/info1.json" || fail "modemctl --json info"
grep -q '"mqtt_credentials":false' "$work/info1.json" || fail "info should report no credentials"
start_broker
b=$work/broker
device_tls=(-h 127.0.0.1 -p "$broker_port" --cafile "$b/ca.pem" --cert "$b/device.pem"
            --key "$b/device.key" -u logger-0042 -P field-secret -i logger-0042)
say "Connecting with the platform's credentials is refused before anything is sent"
say "(exit code 6), instead of failing later at the broker:"
expect_rc 6 "$modemctl" -d "$sa_link" mqtt pub "${device_tls[@]}" -t logger/0042/telemetry -m hello
done_step "modemctl info names the firmware, the missing capability, the evidence and the fix"

# ---------------------------------------------------------------------------------------
step "An over-the-air update with a signed package brings it to LE11B14SIM7600M22"
say "The firmware team signs update packages with an Ed25519 key; devices trust its public key:"
run openssl genpkey -algorithm ed25519 -out "$work/fota-key.pem" || fail "openssl genpkey"
openssl pkey -in "$work/fota-key.pem" -pubout -out "$work/fota-pub.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$work/other-key.pem" 2>/dev/null
say "SIMCom supplies the delta for one source and one target revision (here simulated):"
run "$modemsim" --make-delta --profile SIM7600SA --size 98304 -o "$work/LE11B01_to_LE11B14.zip" ||
  fail "making the delta"
run "$modemctl" fota pack --model SIM7600SA --from LE11B01SIM7600M21-A --to LE11B14SIM7600M22 \
  --method cdelta --sign "$work/fota-key.pem" "$work/LE11B01_to_LE11B14.zip" \
  -o "$work/sim7600sa-LE11B14.fota" || fail "fota pack"
"$modemctl" fota pack --model SIM7600SA --from LE11B01SIM7600M21-A --to LE11B14SIM7600M22 \
  --method cdelta --sign "$work/other-key.pem" "$work/LE11B01_to_LE11B14.zip" \
  -o "$work/forged.fota" >/dev/null 2>&1 || fail "fota pack (forged)"
say "A package signed with another key is refused before a byte is sent (exit code 13):"
expect_rc 13 "$modemctl" -d "$sa_link" fota apply "$work/forged.fota" \
  --pubkey "$work/fota-pub.pem" --require-signature --journal "$work/journal"
say "The real one: checked, transferred, applied once, the module reboots and is verified:"
run "$modemctl" -d "$sa_link" fota apply "$work/sim7600sa-LE11B14.fota" \
  --pubkey "$work/fota-pub.pem" --require-signature --journal "$work/journal" \
  --reboot-timeout 60 || fail "fota apply"
run "$modemctl" fota status --journal "$work/journal" || fail "fota status"
"$modemctl" -d "$sa_link" --json info >"$work/info2.json" || fail "modemctl info after the update"
grep -q '"revision":"LE11B14SIM7600M22"' "$work/info2.json" || fail "revision after the update"
grep -q '"mqtt_credentials":true' "$work/info2.json" || fail "credentials after the update"
run "$modemctl" -d "$sa_link" info | grep -E "Revision|MQTT" || true
done_step "the module runs LE11B14SIM7600M22 and can now send MQTT credentials"

# ---------------------------------------------------------------------------------------
step "The data logger (modemd) sends telemetry over TLS with credentials and takes new parameters"
say "modemd is the agent of seed 000's data logger: samples go to a durable queue and leave"
say "it only when the broker acknowledged them; parameters come down as JSON and are"
say "validated, applied and acknowledged. Its configuration:"
mkdir -p "$work/modemd"
cat >"$work/modemd/modemd.conf" <<CONF
[device]
port = $sa_link
reopen_timeout = 60s
[mqtt]
url = mqtts://127.0.0.1:$broker_port
client_id = logger-0042
username = logger-0042
password = field-secret
cafile = $b/ca.pem
certfile = $b/device.pem
keyfile = $b/device.key
keepalive = 60s
[sample]
source = synthetic
interval = 1s
[state]
dir = $work/modemd/state
[params]
apply_file = $work/modemd/params.json
[param sample_interval_ms]
type = int
min = 1000
max = 86400000
default = 1000
[param motor_speed]
type = int
min = 0
max = 3000
default = 1450
[log]
level = info
CONF
sed -e 's/^/    /' -e 's/^\(    password = \).*/\1(secret)/' "$work/modemd/modemd.conf"
"$bin/tools/modemd/modemd" --check-config "$work/modemd/modemd.conf" >/dev/null ||
  fail "modemd --check-config"
say "The platform listens for telemetry (mosquitto_sub with its own certificate and credentials):"
mosquitto_sub $(platform_tls) -i platform -q 1 -t devices/logger-0042/telemetry -C 3 -W 90 -v \
  >"$work/platform.out" 2>&1 &
sub_pid=$!
pids+=($sub_pid)
for i in $(seq 100); do grep -q "as platform" "$b/mosquitto.log" 2>/dev/null && break; sleep 0.05; done
printf '%s$ modemd --config %s%s\n' "$dim" "$work/modemd/modemd.conf" "$reset"
"$bin/tools/modemd/modemd" --config "$work/modemd/modemd.conf" >"$work/modemd/log" 2>&1 &
modemd_pid=$!
pids+=($modemd_pid)
wait "$sub_pid" || { sed 's/^/    /' "$work/modemd/log" >&2; fail "the platform did not receive 3 samples"; }
say "What the platform received:"
sed 's/^/    /' "$work/platform.out"
say "The operator changes the sample interval and the motor speed (seed 000's parameters):"
mosquitto_sub $(platform_tls) -i operator-replies -q 1 -t devices/logger-0042/params/reply \
  -C 2 -W 60 >"$work/replies.out" 2>&1 &
rep_pid=$!
pids+=($rep_pid)
for i in $(seq 100); do grep -q "as operator-replies" "$b/mosquitto.log" 2>/dev/null && break; sleep 0.05; done
run mosquitto_pub $(platform_tls) -i operator-console -q 1 -t devices/logger-0042/params \
  -m '{"id":"op-1","sample_interval_ms":60000,"motor_speed":1200}' || fail "mosquitto_pub"
say "and then makes a typo; the agent refuses it and changes nothing:"
run mosquitto_pub $(platform_tls) -i operator-console -q 1 -t devices/logger-0042/params \
  -m '{"id":"op-2","motor_speed":12000}' || fail "mosquitto_pub"
wait "$rep_pid" || { sed 's/^/    /' "$work/modemd/log" >&2; fail "no acknowledgements from modemd"; }
say "modemd's acknowledgements on the reply topic:"
sed 's/^/    /' "$work/replies.out"
say "The parameters the logger now runs with ($work/modemd/params.json):"
sed 's/^/    /' "$work/modemd/params.json"
echo
grep -q '"status":"accepted"' "$work/replies.out" || fail "the change was not accepted"
grep -q '"status":"rejected"' "$work/replies.out" || fail "the typo was not rejected"
grep -q '"motor_speed": *1200' "$work/modemd/params.json" || fail "motor_speed not applied"
kill "$modemd_pid" && wait "$modemd_pid" 2>/dev/null || true
done_step "telemetry reached the platform; the new parameters were applied and acknowledged, the bad one refused"

# ---------------------------------------------------------------------------------------
step "An RC7620 stuck in a reboot loop after a bad update is recovered in download mode (seeds 002, 004)"
mkcwe=$bin/tests/flash/mk_mkcwe
spk=$work/RC76xx_Release9.0.1_GENERIC_GCF_7620.spk
say "Sierra's release images are not redistributable; the demo builds a synthetic one with the"
say "same structure (SPK holding BOOT, APPL and an NVUP carrier package, every CRC valid):"
"$mkcwe" "$spk" --firmware 00.08.24.02 --carrier GENERIC --config 001.110_000 >/dev/null ||
  fail "building the test image"
run "$modemctl" image info "$spk" || fail "modemctl image info"
# The module enumerates for ~1.5 s, vanishes for ~2.5 s, again and again (seed 004 saw 2-3 s
# and 10-15 s; scaled down so the demo does not take minutes).
start_sim rc --profile RC7620 --fault bootloop=1500/2500
rc_link=$sim_link; rc_ctl=$sim_ctl
say "The module keeps rebooting. modemctl notices and says what to do (exit code 18):"
expect_rc 18 "$modemctl" -d "$rc_link" flash --reboot-timeout 30 "$spk"
say "The operator holds TP1 low and power-cycles the module (on the bench: modemsim --ctl):"
run "$modemsim" --ctl "$rc_ctl" tp1 on || fail "tp1 on"
run "$modemsim" --ctl "$rc_ctl" power-cycle || fail "power-cycle"
for i in $(seq 200); do [ -e "$rc_link" ] && break; sleep 0.05; done
run "$modemsim" --ctl "$rc_ctl" tp1 off || fail "tp1 off"
say "Another program opens the port first and swallows the one-shot Sahara HELLO, as in"
say "seed 004 (qmi-firmware-update then gave up: 'unsupported download protocol'):"
printf '%s$ head -c 48 %s | od -An -tx1%s\n' "$dim" "$rc_link" "$reset"
timeout 5 head -c 48 <"$rc_link" | od -An -tx1 | sed 's/^/    /'
say "modemctl listens, provokes a new HELLO, keeps every byte, and flashes:"
run "$modemctl" -d "$rc_link" flash --reboot-timeout 30 "$spk" || fail "modemctl flash"
"$modemctl" -d "$rc_link" --json info >"$work/rc.json" || fail "modemctl info after flashing"
grep -q '00.08.24.02' "$work/rc.json" || fail "the module does not run 00.08.24.02"
run "$modemctl" -d "$rc_link" at 'AT!IMPREF?' || fail "AT!IMPREF?"
done_step "the RC7620 runs SWI9X07H_00.08.24.02 and no longer reboots"

say ""
say "${bold}Story complete: every step done.${reset}"
