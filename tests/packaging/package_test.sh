#!/usr/bin/env bash
# Builds the edge-host Debian package from a build tree and checks it as a
# user would get it: its control data (name, Depends, conffiles), its file
# list, and that the extracted host accepts the shipped topology with the
# shipped plugins. With EDGE_PACKAGE_TEST_INSTALL=1, as root, it also
# installs the package with dpkg, checks the installed host, removes it and
# purges it (this modifies the machine: off by default).
#
# Usage: package_test.sh BUILD_DIR WORK_DIR
set -euo pipefail

build_dir=$(cd "$1" && pwd)
work_dir=$2
fail() { echo "package_test: FAILED: $*" >&2; exit 1; }
step() { echo "package_test: $*"; }

rm -rf "$work_dir"
mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd)

step "cpack -G DEB"
# -B keeps CPack's staging tree and the .deb out of the build tree.
(cd "$build_dir" && cpack -G DEB -B "$work_dir/cpack") > "$work_dir/cpack.log" 2>&1 ||
  { cat "$work_dir/cpack.log" >&2; fail "cpack failed (log above)"; }
shopt -s nullglob
debs=("$work_dir"/cpack/edge-host_*.deb)
((${#debs[@]} == 1)) || fail "expected one edge-host_*.deb in $work_dir/cpack, found ${#debs[@]}"
deb=${debs[0]}
step "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

step "dpkg-deb -I: control data"
info=$(dpkg-deb -I "$deb")
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == edge-host ]] || fail "Package is '$(field Package)', expected edge-host"
[[ -n $(field Version) ]] || fail "no Version"
[[ $(field Architecture) == $(dpkg --print-architecture) ]] || fail "Architecture is '$(field Architecture)'"
depends=$(field Depends)
for library in libc6 libstdc++6 libyaml-cpp0.7; do
  [[ $depends == *"$library"* ]] || fail "Depends lacks $library (computed by dpkg-shlibdeps): '$depends'"
done
# The listing is read whole before grep: `tar | grep -q` under pipefail fails
# whenever grep exits early and tar gets SIGPIPE (seen under ctest -j2).
control_files=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
grep -qx './conffiles' <<<"$control_files" || fail "no conffiles in the control archive"
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
[[ $conffiles == "/etc/edge/topology.yaml" ]] || fail "conffiles is '$conffiles', expected /etc/edge/topology.yaml"
for script in postinst prerm postrm; do
  [[ $info == *" $script"* ]] || fail "no $script maintainer script"
done

step "dpkg-deb -c: file list"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/edge-host ./usr/bin/edgectl ./usr/bin/edge-sign \
            ./usr/libexec/edge/edge-worker ./usr/lib/edge/plugins/echo.so \
            ./usr/lib/edge/plugins/crash.so \
            ./usr/lib/edge/plugins/sensor_stats.so ./lib/systemd/system/edge-host.service \
            ./etc/edge/topology.yaml ./usr/share/doc/edge-host/operations.md \
            ./usr/share/doc/edge-host/http-api.md; do
  grep -qx "$path" <<<"$contents" || fail "the package lacks $path"
done
# Development files belong to no runtime package.
if grep -Eq '^\./usr/(include|lib/.*\.a$|lib/.*/cmake/)' <<<"$contents"; then
  fail "the package carries development files: $(grep -E '^\./usr/(include|lib/.*\.a$|lib/.*/cmake/)' <<<"$contents" | head -3 | tr '\n' ' ')"
fi
dpkg-deb -c "$deb" | awk '{print $2}' | grep -vqx 'root/root' &&
  fail "files not owned by root/root in the package"

step "dpkg-deb -x: the extracted host checks the shipped topology"
root=$work_dir/root
dpkg-deb -x "$deb" "$root"
check_output=$("$root/usr/bin/edge-host" --check --config "$root/etc/edge/topology.yaml" \
                 --plugin-dir "$root/usr/lib/edge/plugins" 2>&1) ||
  fail "edge-host --check on the shipped topology: $check_output"
step "  $check_output"
[[ $check_output == ok:* ]] || fail "edge-host --check printed '$check_output', expected 'ok: ...'"
grep -qx 'plugin_dir: /usr/lib/edge/plugins' "$root/etc/edge/topology.yaml" ||
  fail "the shipped topology does not name the shipped plugin directory /usr/lib/edge/plugins"
"$root/usr/bin/edgectl" --version | grep -q '^edgectl ' || fail "edgectl --version"

step "the extracted host runs a process-isolated function with the shipped edge-worker"
cat > "$work_dir/isolated.yaml" <<YAML
plugin_dir: $root/usr/lib/edge/plugins
nodes: [{id: n, resources: {memory_max_mb: 4096}}]
functions: [{id: e, plugin: echo, isolation: process, memory_mb: 256}]
YAML
isolated_output=$("$root/usr/bin/edge-host" --config "$work_dir/isolated.yaml" --invoke e \
                    --input from-a-worker 2>&1) || fail "process-isolated invoke: $isolated_output"
[[ $isolated_output == *from-a-worker* ]] ||
  fail "process-isolated invoke printed '$isolated_output', expected the input back"

if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify edge-host.service"
  # verify checks that ExecStart's binary exists: point the unit at the
  # extracted one, everything else unchanged.
  mkdir -p "$work_dir/unit"
  sed "s|/usr/bin/edge-host|$root/usr/bin/edge-host|g" "$root/lib/systemd/system/edge-host.service" \
    > "$work_dir/unit/edge-host.service"
  verify_output=$(cd "$work_dir/unit" && systemd-analyze verify --man=no ./edge-host.service 2>&1) ||
    fail "systemd-analyze verify: $verify_output"
  [[ -z $verify_output ]] || fail "systemd-analyze verify warns: $verify_output"
else
  step "systemd-analyze not installed: unit not verified"
fi

if [[ ${EDGE_PACKAGE_TEST_INSTALL:-0} == 1 ]]; then
  [[ $(id -u) == 0 ]] || fail "EDGE_PACKAGE_TEST_INSTALL=1 needs root (dpkg -i)"
  if dpkg-query -W -f='${Status}' edge-host 2>/dev/null | grep -q 'install ok installed'; then
    fail "edge-host is already installed on this machine: not touching it"
  fi
  step "dpkg -i (EDGE_PACKAGE_TEST_INSTALL=1)"
  trap 'dpkg --purge edge-host >/dev/null 2>&1 || true' EXIT
  dpkg -i "$deb" > "$work_dir/dpkg.log" 2>&1 || { cat "$work_dir/dpkg.log" >&2; fail "dpkg -i"; }
  installed_check=$(/usr/bin/edge-host --check --config /etc/edge/topology.yaml 2>&1) ||
    fail "installed edge-host --check: $installed_check"
  step "  $installed_check"
  dpkg -r edge-host > "$work_dir/dpkg.log" 2>&1 || { cat "$work_dir/dpkg.log" >&2; fail "dpkg -r"; }
  [[ ! -e /usr/bin/edge-host ]] || fail "/usr/bin/edge-host still there after dpkg -r"
  [[ -e /etc/edge/topology.yaml ]] || fail "dpkg -r removed the conffile /etc/edge/topology.yaml (only purge should)"
  dpkg --purge edge-host > "$work_dir/dpkg.log" 2>&1 || { cat "$work_dir/dpkg.log" >&2; fail "dpkg --purge"; }
  [[ ! -e /etc/edge/topology.yaml ]] || fail "/etc/edge/topology.yaml still there after dpkg --purge"
  trap - EXIT
fi

rm -rf "$work_dir"
echo "package_test: ok"
