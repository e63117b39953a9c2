#!/bin/sh
# The whole test suite, as CI runs it: installs what the tests need (tshark, tcpreplay and its
# libpcap for the live-capture tests, Suricata 7 for the differential tests, chromium for the
# HTML report screenshot, nats-server for the scale-out tests, scikit-learn + skl2onnx for the
# ONNX import test), checks formatting
# and lints, then runs every test of the workspace in release mode (the end-to-end tests drive
# the real binary on large generated captures, which debug builds make slow).
# Shared test data is read from $VEDETTE_SHARED (default: ../shared beside the repository);
# with CI=true, missing data or tools fail the tests instead of skipping them.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-test-deps.sh tshark tcpreplay suricata chromium nats sklearn
cargo fmt --all --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release
