#!/usr/bin/env bash
# The build sandbox's cost (docs/security.md): warm and cold native builds of the three examples and
# two corpus apps, with the sandbox and with --no-sandbox, run as adjacent pairs in the same run so
# that the machine's load falls on both alike. Prints one TSV row per build: app, mode, kind, elapsed
# seconds and CPU seconds (user + system, children included: what a loaded machine stretches least),
# both from /usr/bin/time. Cold = --no-cache: every install step, build step and layer is made
# again (downloads still come from pare's cache: the sandbox wraps the steps, not the downloads).
#   [APPS='examples/go-hello ...'] benchmarks/sandbox_cost.sh [WARM_PAIRS [COLD_PAIRS]] > results.tsv
set -euo pipefail
warm_pairs=${1:-5}
cold_pairs=${2:-1}
repo=$(cd "$(dirname "$0")/.." && pwd)
pare=${PARE:-$repo/.venv/bin/pare}
read -r -a apps <<< "${APPS:-examples/go-hello examples/node-express examples/python-flask \
tests/corpus/py-flask-procfile tests/corpus/node-render-fastify}"
work=$(mktemp -d /tmp/pare-sandbox-cost-XXXXXX)
trap 'rm -rf "$work"' EXIT
one() {  # app mode kind extra-args...
    local app=$1 mode=$2 kind=$3; shift 3
    local flags=()
    [ "$mode" = no-sandbox ] && flags+=(--no-sandbox)
    /usr/bin/time -f "%e %U %S" -o "$work/t" "$pare" build "$work/$(basename "$app")" -q --level 1 \
        -t "oci:$work/out:$(basename "$app")" "${flags[@]}" "$@" >/dev/null
    read -r elapsed user system < "$work/t"
    printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$app")" "$mode" "$kind" "$elapsed" \
        "$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')"
}
for app in "${apps[@]}"; do
    cp -r "$repo/$app" "$work/"
    "$pare" build "$work/$(basename "$app")" -q --level 1 -t "oci:$work/out:$(basename "$app")" >/dev/null  # lock, caches
    for _ in $(seq "$warm_pairs"); do
        one "$app" sandbox warm
        one "$app" no-sandbox warm
    done
    for _ in $(seq "$cold_pairs"); do
        one "$app" sandbox cold --no-cache
        one "$app" no-sandbox cold --no-cache
    done
done
