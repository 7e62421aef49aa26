#!/usr/bin/env bash
# README.md is assembled from docs/readme/*.md in this order; edit the parts, then run this.
set -euo pipefail
cd "$(dirname "$0")/readme"
parts=(00-intro.md 10-store.md gateway.md kiosk.md hw.md cloud.md licence.md admin.md analytics.md 90-dev.md)
out=../../README.md
: > "$out"
for p in "${parts[@]}"; do
    [ -f "$p" ] || continue
    if [ "$p" = 00-intro.md ]; then cat "$p" >> "$out"; else sed -e '1s/^# /## /' "$p" >> "$out"; fi
    printf '\n' >> "$out"
done
