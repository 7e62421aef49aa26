#!/usr/bin/env bash
# README.md is assembled from docs/readme/*.md in this order; edit the parts, then run this.
# The intro holds the title ("# kassa"); every other part starts with its "## " section.
set -euo pipefail
cd "$(dirname "$0")/readme"
out=../../README.md
: > "$out"
for p in 00-intro.md 10-store.md gateway.md kiosk.md hw.md cloud.md licence.md admin.md \
         analytics.md 90-dev.md; do
    [ -f "$p" ] || continue
    cat "$p" >> "$out"
    printf '\n' >> "$out"
done
