#!/bin/sh
# Forks a child and waits with it: both sleep $1 seconds (the duration doubles as a marker to find them by).
sleep "$1" &
sleep "$1"
wait
