#!/usr/bin/env bash
# Runs every benchmark and prints its figures (they are not tests: nothing here passes or
# fails on a number). About 5 minutes; --quick shortens the long ones.
#   scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
scripts/deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
cmake --build --preset dev --target bench >/dev/null
b=build/dev/bench
export MODEMSIM=$PWD/build/dev/sim/modemsim MODEMD=$PWD/build/dev/tools/modemd/modemd

section() { printf '\n=== %s ===\n' "$*"; }
section "AT tokenizer throughput (bench/at_parse)"
"$b/at_parse/bench_at_parse"
section "CWE image verification (bench/flash/bench_cwe)"
"$b/flash/bench_cwe"
section "Flashing through modemsim over a pty (bench/flash/bench_flash)"
"$b/flash/bench_flash"
section "MQTT QoS 1 publishes at 115200 baud (bench/mqtt_pub)"
"$b/mqtt_pub/bench_mqtt_pub"
section "FOTA delta transfer vs the line rate (bench/fota_transfer)"
if [ "$quick" = 1 ]; then
  "$b/fota_transfer/bench_fota_transfer" --size 262144
else
  "$b/fota_transfer/bench_fota_transfer"
fi
section "modemd cost per published sample (bench/modemd)"
"$b/modemd/bench_modemd"
section "Cortex-M4 flash and RAM of the portable core (scripts/arm-size.sh)"
cmake --preset arm >/dev/null
cmake --build --preset arm >/dev/null
scripts/arm-size.sh build/arm
