#!/bin/sh
# Waits until the file $1 exists (the test's signal), then writes $2 bytes to stdout.
while [ ! -e "$1" ]; do sleep 0.1; done
head -c "$2" /dev/zero
