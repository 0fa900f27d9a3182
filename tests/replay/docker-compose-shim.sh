#!/bin/sh
# TEST ENVIRONMENT ONLY, never in a learner's VM: the offline test machine has no
# Compose v2 plugin (no registry, no Docker apt repository), only Debian's
# docker-compose 1.29. This docker CLI plugin makes `docker compose ARGS` run
# `docker-compose ARGS`, so that the replay runs the exercises' text unchanged.
# The replay installs it only where `docker compose version` fails.
if [ "$1" = docker-cli-plugin-metadata ]; then
    echo '{"SchemaVersion":"0.1.0","Vendor":"docker-workshop tests",' \
         '"Version":"1.29-shim","ShortDescription":"docker-compose 1.29 as docker compose"}'
    exit 0
fi
shift  # the CLI passes the plugin's own name ("compose") first
exec /usr/bin/docker-compose "$@"
