#!/usr/bin/env bash
# Rebuilds assets/plotly-3.0.1-embedscope.min.js, the plotly.js every report inlines: plotly.js
# 3.0.1 with only the traces the report and the notebook figures draw (scatter, bar, scattergl),
# 1.3 MB instead of the full bundle's 4.65 MB. Not part of the build or the tests (the bundle is
# committed); run it when the report starts using another trace type or plotly.js is upgraded.
# Needs node and npm (registry.npmjs.org). It runs plotly.js's own partial-bundle task
# (tasks/custom_bundle.mjs) with the build tools plotly.js's package.json pins, from the lock
# file beside this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
(cd "$work/node_modules/plotly.js" && node tasks/custom_bundle.mjs --traces scatter,bar,scattergl --out embedscope >/dev/null)
out="$here/../plotly-3.0.1-embedscope.min.js"
cp "$work/node_modules/plotly.js/dist/plotly-embedscope.min.js" "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote assets/plotly-3.0.1-embedscope.min.js ($(wc -c < "$out") bytes)"
