#!/usr/bin/env bash
# README.md is assembled from docs/readme/*.md in this order; edit the parts, then run this.
# Every part but the intro goes one heading level down (its "# Title" becomes a "## " section).
set -euo pipefail
cd "$(dirname "$0")/readme"
python3 - 00-intro.md 10-store.md gateway.md kiosk.md hw.md cloud.md licence.md admin.md \
    analytics.md 90-dev.md > ../../README.md <<'PY'
import os
import sys

out = []
for i, name in enumerate(sys.argv[1:]):
    if not os.path.exists(name):
        continue
    fenced = False
    for line in open(name, encoding="utf-8").read().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#") and i > 0:
            line = "#" + line
        out.append(line)
    out.append("")
sys.stdout.write("\n".join(out))
PY
