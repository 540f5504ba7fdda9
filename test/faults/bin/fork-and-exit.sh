#!/bin/sh
# Forks a child that sleeps $1 seconds and exits at once, leaving the child behind.
sleep "$1" &
echo forked
exit 0
