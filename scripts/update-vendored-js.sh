#!/usr/bin/env bash
# Re-fetches the dashboard's chart library (uPlot) from the npm registry at the pinned version,
# checks the tarball's sha256, and copies the files the dashboard embeds into
# crates/api/assets/vendor/. To move to another version, change VERSION and SHA256 together.
set -euo pipefail
VERSION=1.6.32
SHA256=4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/crates/api/assets/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$VERSION" >/dev/null)
tarball="$tmp/uplot-$VERSION.tgz"
got=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$got" != "$SHA256" ]; then
  echo "uplot-$VERSION.tgz: sha256 $got, expected $SHA256" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp"
mkdir -p "$dest"
cp "$tmp/package/dist/uPlot.esm.js" "$tmp/package/dist/uPlot.min.css" "$tmp/package/LICENSE" "$dest/"
printf 'uPlot %s from the npm registry (npm pack uplot@%s), tarball sha256 %s, MIT licence (LICENSE).\nFetched by scripts/update-vendored-js.sh; do not edit these files by hand.\n' \
  "$VERSION" "$VERSION" "$SHA256" >"$dest/VERSION"
echo "vendored uPlot $VERSION into $dest"
