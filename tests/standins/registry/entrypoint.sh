#!/bin/sh
# As the official registry:2 image's entrypoint: a config file as the first argument
# means `registry serve FILE`; a registry subcommand or option gets `registry` in front;
# anything else runs as given.
set -e
case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac
exec "$@"
