#!/usr/bin/env bash
# README.md is assembled from docs/readme/*.md in file-name order; edit the parts, then run this.
# 00-intro.md holds the title ("# kassa"); every other part starts with its "## " section, or with
# a "### " subsection of the part before it. HQ's parts are 5x-*.md (after the cloud and the
# licences, before analytics).
set -euo pipefail
cd "$(dirname "$0")/readme"
cat $(ls *.md | LC_ALL=C sort) > ../../README.md
