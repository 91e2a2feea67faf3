#!/usr/bin/env bash
# screenshot.sh [OUT.png] - the README's screenshot of the explorer, from a real run.
#
# Writes the demo project to /tmp/lernmanager (the README's examples use that path; it is
# removed afterwards unless it was there before), opens it with `pycache demo DIR` in a
# detached tmux session of 100x30 (TERM=xterm-256color), opens config.py (stale for 3.13,
# stale for 3.12, fresh in the prefix), shows the whole project's charts (`t`), captures
# the screen with its colours (tmux capture-pane -e) and renders it with
# scripts/screenshot.py. Default OUT: assets/screenshot.png.
#
# Needs tmux, Pillow (`pip install pillow`) and the DejaVu fonts (fonts-dejavu-core).
# Builds the debug binary. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-assets/screenshot.png}
cols=100
rows=30
session=pycache-shot-$$
cargo build --quiet
work=$(mktemp -d)
demo=/tmp/lernmanager
keep_demo=false
[ -e "$demo" ] && keep_demo=true
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$work"
    "$keep_demo" || rm -rf "$demo"
}
trap cleanup EXIT
bin=$PWD/target/debug/pycache

tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "env -u NO_COLOR -u COLORTERM TERM=xterm-256color $bin demo $demo; sleep 5"

# Waits until the screen shows TEXT (up to 10 s).
wait_for() {
    for _ in $(seq 100); do
        if tmux capture-pane -p -t "$session" | grep -qF -- "$1"; then
            return 0
        fi
        sleep 0.1
    done
    echo "screenshot: timed out waiting for '$1'" >&2
    tmux capture-pane -p -t "$session" >&2
    exit 1
}

wait_for "32 caches"
# config.py is the 6th row: open it, then show the whole project in the details pane.
tmux send-keys -t "$session" j j j j j l
wait_for "313@prefix"
tmux send-keys -t "$session" t
wait_for "whole project"
sleep 0.3
tmux capture-pane -e -p -t "$session" > "$work/capture.txt"
python3 scripts/screenshot.py "$work/capture.txt" "$out" "$cols" "$rows"
tmux send-keys -t "$session" q
echo "wrote $out"
