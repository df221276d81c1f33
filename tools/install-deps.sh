#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds with, if any is missing.
# Run as root (or with sudo). Idempotent: does nothing when all are present.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libboost-dev libboost-system-dev   # Boost.DLL, Boost.Asio (headers)
  libyaml-cpp-dev                    # topology files
  libssl-dev                         # OpenSSL EVP (MD5 of SyncState)
  libseccomp-dev                     # edge-worker: the process sandbox's seccomp filter
  nlohmann-json3-dev                 # JSON
  nats-server libnats-dev            # the NATS transport (host/src/nats) and its tests' server
  doctest-dev                        # tests
  libbenchmark-dev                   # tools/bench
  python3-prometheus-client          # tests: the real parser checks /metrics
  dpkg-dev file                      # the .deb: dpkg-shlibdeps computes Depends, file finds ELF files
  clang libclang-rt-14-dev           # tools/fuzz.sh: libFuzzer, ASan and UBSan for clang 14
  clang-format                       # tools/check_format.sh
  clang-tidy                         # tools/check_tidy.py
  cppcheck                           # tools/check_static.sh
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
