#!/bin/sh
# Fails its first $2 runs (counted in the file $1), then succeeds: a task worth retrying.
n=$(cat "$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$1"
if [ "$n" -le "$2" ]; then echo "run $n fails" >&2; exit 1; fi
echo "run $n succeeds"
