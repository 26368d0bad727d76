#!/bin/sh
# write-section.sh - puts a section of figures into bench/RESULTS.md between its markers
# (<!-- NAME:begin --> ... <!-- NAME:end -->), replacing the old one or appending it.
# Usage: bench/write-section.sh NAME TEXT   (TEXT includes both markers)
set -eu
name=$1 section=$2
f=bench/RESULTS.md
[ -f "$f" ] || printf '# Benchmark results\n\nFigures written by the scripts under bench/; each section says how it was measured.\n' >"$f"
if grep -q "<!-- $name:begin -->" "$f"; then
  awk -v repl="$section" -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" \
    'BEGIN{skip=0} $0==b{print repl; skip=1; next} $0==e{skip=0; next} !skip{print}' "$f" >"$f.tmp"
else
  { cat "$f"; printf '\n%s\n' "$section"; } >"$f.tmp"
fi
mv "$f.tmp" "$f"
echo "wrote $f ($name)"
