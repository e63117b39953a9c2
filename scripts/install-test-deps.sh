#!/bin/sh
# Installs the external tools vedette's test suite and benchmarks need, on Debian (bookworm):
#   tshark     tshark + capinfos/editcap (wireshark-common; setuid dumpcap question preseeded "no")
#   tcpreplay  tcpreplay, tcprewrite, tcpprep
#   pyyaml     the `yaml` module for the python3 on PATH (pip, else apt python3-yaml)
#   time       GNU /usr/bin/time (used by scripts/bench-vs-suricata.sh)
#   suricata   Suricata 7, via $VEDETTE_SHARED/tools/install-suricata.sh
#   chromium   Debian's chromium and chromium-driver (headless screenshots of the HTML report;
#              the dashboard's browser tests over WebDriver)
#   nats       Debian's nats-server (the JetStream cluster of the scale-out tests)
#   sklearn    scikit-learn, skl2onnx and onnx for the python3 on PATH (pip; ONNX import test)
#
# Usage: scripts/install-test-deps.sh [COMPONENT...]     (no argument: all of the above)
# Env:   VEDETTE_SHARED   shared material dir (default: <repo>/../shared)
#
# Idempotent: each component is skipped when already present. Quiet unless something fails; then
# the failing command's output is shown and the script exits non-zero. Needs root (or sudo) only
# when something actually has to be installed.
set -eu

script_dir=$(cd "$(dirname "$0")" && pwd)
SHARED=${VEDETTE_SHARED:-$script_dir/../../shared}
export DEBIAN_FRONTEND=noninteractive

die() { echo "install-test-deps: error: $*" >&2; exit 1; }
note() { echo "install-test-deps: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# run CMD...: run quietly; on failure show its output and return its status.
run() {
  if "$@" >"$log" 2>&1; then return 0; else
    st=$?; echo "install-test-deps: command failed ($st): $*" >&2; cat "$log" >&2; return "$st"
  fi
}

SUDO=
as_root() {
  if [ -z "$SUDO" ] && [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO=sudo; else die "must run as root (or have sudo) to install: $*"; fi
  fi
  # shellcheck disable=SC2086  # SUDO is empty or "sudo"
  run $SUDO env DEBIAN_FRONTEND=noninteractive "$@"
}

apt_updated=
apt_install() {
  have apt-get || die "apt-get not found; install manually: $*"
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq || die "apt-get update failed"
    apt_updated=1
  fi
  as_root apt-get install -y -qq --no-install-recommends "$@" || die "apt-get install $* failed"
}

py_has() { python3 -c "import $1" >/dev/null 2>&1; }

dep_tshark() {
  have tshark && have capinfos && return 0
  note "installing tshark"
  if have debconf-set-selections; then
    echo 'wireshark-common wireshark-common/install-setuid boolean false' \
      | { if [ "$(id -u)" -eq 0 ]; then debconf-set-selections; else sudo debconf-set-selections; fi; } \
      || die "debconf preseed for wireshark-common failed"
  fi
  apt_install tshark
  if ! have tshark || ! have capinfos; then die "tshark/capinfos still missing after apt-get install tshark"; fi
}

dep_tcpreplay() {
  have tcpreplay && return 0
  note "installing tcpreplay"
  apt_install tcpreplay
  have tcpreplay || die "tcpreplay still missing after install"
}

dep_time() {
  [ -x /usr/bin/time ] && return 0
  note "installing GNU time"
  apt_install time
  [ -x /usr/bin/time ] || die "/usr/bin/time still missing after install"
}

dep_pyyaml() {
  have python3 || apt_install python3
  py_has yaml && return 0
  note "installing pyyaml for $(command -v python3)"
  # A pip-managed python (pyenv, venv) takes pip; Debian's own python3 is "externally managed"
  # (PEP 668), so fall back to the distribution package.
  if ! { python3 -m pip --version >/dev/null 2>&1 && run python3 -m pip install -q pyyaml; }; then
    apt_install python3-yaml
  fi
  py_has yaml || die "python3 ($(command -v python3)) still cannot import yaml (apt's python3-yaml only serves /usr/bin/python3)"
}

dep_suricata() {
  if ! have suricata; then
    inst=$SHARED/tools/install-suricata.sh
    [ -f "$inst" ] || die "Suricata missing and $inst not found (set VEDETTE_SHARED to the shared material dir)"
    note "installing Suricata 7 via $inst"
    as_root sh "$inst" || die "$inst failed"
  fi
  v=$(suricata -V 2>&1) || die "suricata is installed but 'suricata -V' fails: $v"
  case $v in
    *"version 7."*) ;;
    *) die "Suricata 7 required, found: $v" ;;
  esac
}

dep_chromium() {
  have chromium && have chromedriver && return 0
  note "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
  have chromium || die "chromium still missing after apt-get install chromium"
  have chromedriver || die "chromedriver still missing after apt-get install chromium-driver"
}

dep_nats() {
  have nats-server && return 0
  note "installing nats-server"
  apt_install nats-server
  have nats-server || die "nats-server still missing after apt-get install nats-server"
}

dep_sklearn() {
  have python3 || apt_install python3
  python3 -c "import sklearn, skl2onnx, onnx" >/dev/null 2>&1 && return 0
  note "installing scikit-learn, skl2onnx and onnx for $(command -v python3)"
  if ! python3 -m pip --version >/dev/null 2>&1; then apt_install python3-pip; fi
  # Debian's own python3 is "externally managed" (PEP 668): allow pip there explicitly.
  run python3 -m pip install -q scikit-learn skl2onnx onnx \
    || run python3 -m pip install -q --break-system-packages scikit-learn skl2onnx onnx \
    || die "pip install scikit-learn skl2onnx onnx failed"
  python3 -c "import sklearn, skl2onnx, onnx" >/dev/null 2>&1 \
    || die "python3 ($(command -v python3)) still cannot import sklearn, skl2onnx, onnx"
}

[ $# -gt 0 ] || set -- tshark tcpreplay pyyaml time suricata chromium nats sklearn
for c in "$@"; do
  case $c in
    tshark | tcpreplay | pyyaml | time | suricata | chromium | nats | sklearn) "dep_$c" ;;
    *) die "unknown component '$c' (known: tshark tcpreplay pyyaml time suricata chromium nats sklearn)" ;;
  esac
done
