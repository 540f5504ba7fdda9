#!/bin/sh
# The first run (no file $1 yet) creates $1, then sleeps $2 seconds with a forked child; later runs finish at once.
if [ ! -e "$1" ]; then
  : > "$1"
  sleep "$2" &
  sleep "$2"
  wait
fi
echo finished
