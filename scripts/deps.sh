#!/usr/bin/env bash
# Installs the Debian 12 packages modemkit needs to build and test, only those missing.
# Needs root (or sudo) when something is missing; does nothing otherwise.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config   # build
  clang libclang-rt-14-dev                        # clang warnings, ASan/UBSan, libFuzzer
  gcc-arm-none-eabi libnewlib-arm-none-eabi       # MCU build of the core
  libssl-dev openssl                              # Ed25519 package signatures, TLS test CA
  libmosquitto-dev mosquitto mosquitto-clients    # modemsim's MQTT client, test broker
  gammu libqmi-utils                              # independent peers in the tests
  help2man python3                                # man pages, scripted peers
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "modemkit: installing missing packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The distribution's mosquitto service is not used (tests start their own brokers on
# free loopback ports); stop it so it does not hold port 1883 for nothing.
if [ -d /run/systemd/system ]; then $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true; fi
