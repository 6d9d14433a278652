#!/usr/bin/env bash
# Builds the Bildungslotse image with the real Dockerfile and runs it as an operator would (`make image-check`).
#
#   deploy/image-check.sh            # installs what is missing, starts an engine if none runs, builds, checks
#
# Settings (environment):
#   PYTHON_IMAGE   base of both stages; unset: python:3.11-slim if it can be pulled, else a local Debian
#                  bookworm stand-in (debootstrap, python3 3.11) tagged bildungslotse-base:bookworm-local
#   IMAGE          tag of the built image (bildungslotse:check)
#   POSTGRES_URL   an admin connection to the host's PostgreSQL (postgresql://postgres@127.0.0.1:5432/test);
#                  the check creates and drops the database docker_check there
#   WORK           scratch directory (/var/tmp/bildungslotse-image-check): engine log, stand-in root, report
#   FRESH_BASE=1   rebuild the stand-in base even if it exists;  KEEP=1  leave containers and database;
#   KEEP_ENGINE=1  leave an engine this script started running
#   COMPOSE=1      also `up` docker-compose.yml's postgres, migrate and web (needs host port 8090 free); where
#                  postgres:16-alpine cannot be pulled, deploy/compose.local-images.yml swaps in Debian's PostgreSQL
#
# Not part of `make test` or .ci/run: it needs root, a container engine and minutes. Results and the notes
# of the first run are in docs/container-check.md.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-bildungslotse:check}
WORK=${WORK:-/var/tmp/bildungslotse-image-check}
POSTGRES_URL=${POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}
PYTHON=${PYTHON:-.venv/bin/python}
STAND_IN=bildungslotse-base:bookworm-local
mkdir -p "$WORK"
REPORT="$WORK/report.txt"
say() { echo "== $*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- tools: Debian's engine (dockerd, containerd, runc, client) and debootstrap for the stand-in base -----
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v iptables >/dev/null || missing+=(iptables)
[ -z "${COMPOSE:-}" ] || docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null ||
  missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- engine: use a running one, else start dockerd (overlay2, then vfs where overlay cannot mount) ---------
ENGINE_PID=""
# shellcheck disable=SC2317  # called by the EXIT trap
stop_engine() {
  if [ -n "$ENGINE_PID" ] && [ -z "${KEEP_ENGINE:-}" ]; then
    say "stopping the dockerd this script started (pid $ENGINE_PID)"
    $SUDO kill "$ENGINE_PID" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.5; done
  fi
}
trap stop_engine EXIT
if ! docker info >/dev/null 2>&1; then
  for driver in overlay2 vfs; do
    say "starting dockerd --storage-driver=$driver (log: $WORK/dockerd.log)"
    $SUDO dockerd --storage-driver="$driver" >"$WORK/dockerd.log" 2>&1 &
    ENGINE_PID=$!
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.5; done
    docker info >/dev/null 2>&1 && break
    say "dockerd with $driver did not come up: $(tail -n 3 "$WORK/dockerd.log")"
    $SUDO kill "$ENGINE_PID" 2>/dev/null || true; wait "$ENGINE_PID" 2>/dev/null || true; ENGINE_PID=""
  done
  docker info >/dev/null 2>&1 || { echo "FAIL: no container engine could be started (see $WORK/dockerd.log)"; exit 1; }
fi
ENGINE="$(docker version --format '{{.Server.Version}}') ($(docker info --format '{{.Driver}}'), cgroup v$(docker info --format '{{.CgroupVersion}}'))"

# --- base: the official image where a registry answers, else the debootstrapped stand-in ------------------
build_stand_in() {
  local root="$WORK/rootfs"
  say "debootstrap: Debian bookworm minbase + python3 (3.11), python3-venv, python-is-python3 -> $STAND_IN"
  $SUDO rm -rf "$root"
  # shellcheck disable=SC2086  # DEBIAN_MIRROR: optional, debootstrap's default mirror otherwise
  $SUDO debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$root" ${DEBIAN_MIRROR:-} >"$WORK/debootstrap.log" 2>&1
  $SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # CA certificates this host added locally (a TLS-inspecting egress, for instance): pip inside the build
  # must trust what pip on the host trusts. Stand-in only; the official base is never touched.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    $SUDO cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    $SUDO chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
  $SUDO tar -C "$root" -c . | docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$STAND_IN" >/dev/null
  $SUDO rm -rf "$root"
}
if [ -z "${PYTHON_IMAGE:-}" ]; then
  if timeout 300 docker pull -q python:3.11-slim >/dev/null 2>&1; then
    PYTHON_IMAGE=python:3.11-slim
  else
    say "python:3.11-slim cannot be pulled (no registry reachable): using the local stand-in $STAND_IN"
    if [ -n "${FRESH_BASE:-}" ] || ! docker image inspect "$STAND_IN" >/dev/null 2>&1; then build_stand_in; fi
    PYTHON_IMAGE=$STAND_IN
  fi
fi

# --- build with the real Dockerfile (bridge network; host network if the bridge has no way out) -----------
say "docker build --build-arg PYTHON_IMAGE=$PYTHON_IMAGE -t $IMAGE . (log: $WORK/build.log)"
started=$(date +%s)
if ! docker build --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
  say "build failed on the bridge network, trying --network host: $(tail -n 3 "$WORK/build.log")"
  docker build --network host --build-arg PYTHON_IMAGE="$PYTHON_IMAGE" -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log"; echo "FAIL: docker build (see $WORK/build.log)"; exit 1; }
fi
BUILD_SECONDS=$(( $(date +%s) - started ))

# --- run it: tools/image_check.py prints one PASS/FAIL line per check and removes its containers -------------
[ -x "$PYTHON" ] || make install-dev >/dev/null
{
  echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "engine:  Docker Engine $ENGINE"
  echo "base:    $PYTHON_IMAGE ($(docker image inspect --format '{{.Size}}' "$PYTHON_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
  echo "image:   $IMAGE, built in ${BUILD_SECONDS} s"
} | tee "$REPORT"
set +e
PYTHONPATH=$PWD "$PYTHON" -m tools.image_check --image "$IMAGE" --postgres-url "$POSTGRES_URL" ${KEEP:+--keep} 2>&1 | tee -a "$REPORT"
status=${PIPESTATUS[0]}
set -e

# --- optional: the real docker-compose.yml (postgres, migrate, web; the bot needs Telegram, the proxy a domain)
check() {  # name, then a command whose success is the check
  local name=$1 result=PASS; shift
  "$@" >/dev/null 2>&1 || { result=FAIL; status=1; }
  echo "$result  compose: $name" | tee -a "$REPORT"
}
compose_check() {
  local dir="$WORK/compose" files=(-f docker-compose.yml) compose=(docker compose) pg_image=postgres:16-alpine
  docker compose version >/dev/null 2>&1 || compose=(docker-compose)
  rm -rf "$dir" && mkdir -p "$dir/deploy"
  cp docker-compose.yml "$dir/"
  # Compose 1.x (Debian's docker-compose) does not know the top-level `name:`; -p names the project instead
  [ "${compose[0]}" = docker ] || sed -i '/^name:/d' "$dir/docker-compose.yml"
  if ! timeout 300 docker pull -q "$pg_image" >/dev/null 2>&1; then
    pg_image=bildungslotse-postgres:bookworm-local
    docker build -q -f deploy/local-images/postgres.Dockerfile --build-arg BASE_IMAGE="$PYTHON_IMAGE" \
      -t "$pg_image" deploy/local-images >>"$WORK/compose.log" 2>&1
    cp deploy/compose.local-images.yml "$dir/deploy/" && files+=(-f deploy/compose.local-images.yml)
  fi
  printf 'POSTGRES_PASSWORD=check-%s\nBOT_DOMAIN=localhost\nWEB_SECRET_KEY=%s\n' "$RANDOM$RANDOM" \
    "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/.env"
  docker tag "$IMAGE" bildungslotse:latest
  local up=(-p bildungslotse-check "${files[@]}")
  echo "compose: ${compose[*]} $("${compose[@]}" version --short 2>/dev/null), postgres image $pg_image" | tee -a "$REPORT"
  (cd "$dir" && "${compose[@]}" "${up[@]}" up -d --no-build web) >"$WORK/compose.log" 2>&1 || true
  local web_id migrate_id
  web_id=$(cd "$dir" && "${compose[@]}" "${up[@]}" ps -q web)
  migrate_id=$(cd "$dir" && "${compose[@]}" "${up[@]}" ps -q migrate)
  check "postgres healthy, then migrate (db upgrade) exits 0" \
    test "$(docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$migrate_id")" = "exited 0"
  for _ in $(seq 60); do
    [ "$(docker inspect --format '{{.State.Health.Status}}' "$web_id")" = healthy ] && break; sleep 2
  done
  check "web (partner console) turns healthy" test "$(docker inspect --format '{{.State.Health.Status}}' "$web_id")" = healthy
  check "web answers on the host's 127.0.0.1:8090" "$PYTHON" -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8090/anmelden', timeout=5)"
  (cd "$dir" && "${compose[@]}" "${up[@]}" down -v) >>"$WORK/compose.log" 2>&1 || true
  rm -rf "$dir"
}
[ -z "${COMPOSE:-}" ] || compose_check
{ [ "$status" -eq 0 ] && echo "PASS: image check" || echo "FAIL: image check"; } | tee -a "$REPORT"
echo "report: $REPORT" >&2
exit "$status"
