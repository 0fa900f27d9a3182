#!/usr/bin/env bash
# Container figures for bench/README.md (run from anywhere, Docker engine up, images built):
#  1. the web image's size against its base image's size;
#  2. a rebuild with a warm cache after changing only server.py: the image ID does not
#     change, because the image does not hold server.py (it is bind-mounted);
#  3. `docker compose up` until the web answers /health with 200: first (empty volume,
#     init scripts run) and again after `down` (data kept).
# Uses unique names and a free port; removes what it creates.
set -euo pipefail
cd "$(dirname "$0")/.."
env_get() { sed -n "s/^$1=//p" .env; }

id=bench$$
tag=$id-web:bench
ctx=$(mktemp -d)
compose=(docker-compose)
docker compose version >/dev/null 2>&1 && compose=(docker compose)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export WEB_PORT=$port WEB_IMAGE=$tag
cleanup() {
    "${compose[@]}" -p "$id" down -v >/dev/null 2>&1 || true
    docker image rm -f "$tag" >/dev/null 2>&1 || true
    rm -rf "$ctx"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
size_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'; }

base=$(env_get PYTHON_IMAGE)
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
     "$(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' /etc/os-release), Docker $(docker version -f '{{.Server.Version}}')," \
     "$("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -1)"
standin=$(docker image inspect -f '{{ index .Config.Labels "org.docker-workshop.standin.inputs" }}' "$base")
[ -n "$standin" ] && [ "$standin" != "<no value>" ] && echo "note: $base is the offline stand-in"

# 1 and 2: build in a copy of the context, so the real server.py is never touched.
cp Dockerfile .dockerignore requirements.txt server.py "$ctx"/
start=$(now)
docker build -q --no-cache --build-arg "PYTHON_IMAGE=$base" -t "$tag" "$ctx" >/dev/null 2>&1
echo "build without cache (base present, pip install from PyPI): $(since "$start") s"
before=$(docker image inspect -f '{{.Id}}' "$tag")
echo "web image $tag: $(size_mb "$tag") MB; base $base: $(size_mb "$base") MB;" \
     "added by the Dockerfile: $(( $(size_mb "$tag") - $(size_mb "$base") )) MB"
echo "# a change" >> "$ctx/server.py"
start=$(now)
docker build -q --build-arg "PYTHON_IMAGE=$base" -t "$tag" "$ctx" >/dev/null 2>&1
echo "rebuild after changing only server.py (warm cache): $(since "$start") s;" \
     "image ID unchanged: $([ "$(docker image inspect -f '{{.Id}}' "$tag")" = "$before" ] \
     && echo yes || echo NO)"

# 3: compose up (web image already built) until /health answers 200.
up_to_healthy() {
    local start
    start=$(now)
    "${compose[@]}" -p "$id" up -d >/dev/null 2>&1
    until python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=2)" 2>/dev/null; do
        python3 -c "import sys; sys.exit($(now) - $start > 120)" || { echo "not healthy after 120 s" >&2; exit 1; }
        sleep 0.1
    done
    since "$start"
}
echo "compose up to healthy, empty volume (first init): $(up_to_healthy) s"
"${compose[@]}" -p "$id" down >/dev/null 2>&1
echo "compose up to healthy, after down (volume kept): $(up_to_healthy) s"
