#!/bin/sh
# Ready at once, then idles until stopped (TERM ends it).
touch /tmp/ready
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
