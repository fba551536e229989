#!/usr/bin/env bash
# End-to-end smoke test of the terminal UI: runs the real program in tmux and reads the
# screen. Exits non-zero on the first failure. Needs tmux; uses $AM (default: the venv's
# assemblymesh, else the one on PATH).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
AM="${AM:-$here/.venv/bin/assemblymesh}"
[ -x "$AM" ] || AM="$(command -v assemblymesh)"
TIMEOUT="${SMOKE_TIMEOUT:-20}"
session="am-smoke-$$"
# The UI runs its network node beside it unless told not to: keep the smoke test off the LAN.
export ASSEMBLYMESH_OFFLINE=1
work="$(mktemp -d)"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- screen ---" >&2
    tmux capture-pane -p -t "$session" 2>/dev/null >&2 || true
    exit 1
}

# Poll the pane until it shows $1, or fail after $TIMEOUT seconds.
wait_for() {
    local deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        if tmux capture-pane -p -t "$session" 2>/dev/null | grep -qF -- "$1"; then
            return 0
        fi
        sleep 0.2
    done
    fail "did not see '$1'"
}

# Poll until the session has ended (the program quit).
wait_exit() {
    local deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        tmux has-session -t "$session" 2>/dev/null || return 0
        sleep 0.2
    done
    fail "the program did not quit"
}

start() {
    # Textual draws on stderr: leave it on the terminal.
    tmux new-session -d -s "$session" -x 100 -y 30 "$*"
}

echo "1. assemblymesh demo"
start "$AM demo"
wait_for "Riverside Housing Co-op"
wait_for "Heat pump for block B"
tmux send-keys -t "$session" 2
wait_for ">POSITIONS<"
wait_for "Positions"
tmux send-keys -t "$session" 4
wait_for "Peers (LAN, mesh, static)"
tmux send-keys -t "$session" q
wait_exit

echo "2. a real home made with 'init', then 'assemblymesh'"
home="$work/home"
ASSEMBLYMESH_HOME="$home" "$AM" init --name "Smoke Co-op" --member-name Ana >/dev/null
ASSEMBLYMESH_HOME="$home" "$AM" propose --title "Paint the fence" --body "Green." >/dev/null
start "ASSEMBLYMESH_HOME=$home $AM"
wait_for "Smoke Co-op"
wait_for "Paint the fence"
tmux send-keys -t "$session" 2
wait_for "no round yet"
tmux send-keys -t "$session" o
wait_for ">QUESTIONS<"
# The store is shared: a command run beside the UI sees the round the UI opened.
deadline=$((SECONDS + TIMEOUT))
# (Output captured first: with pipefail, 'grep -q' closing the pipe early would fail it.)
until [[ "$(ASSEMBLYMESH_HOME="$home" "$AM" status 2>&1)" == *in-round* ]]; do
    ((SECONDS < deadline)) || fail "the round opened in the UI is not in the store"
    sleep 0.2
done
tmux send-keys -t "$session" q
wait_exit
[[ "$(ASSEMBLYMESH_HOME="$home" "$AM" status)" == *in-round* ]] || fail "the round is not in the store after quitting"

echo "3. first run on an empty home shows the setup screen"
start "ASSEMBLYMESH_HOME=$work/empty $AM tui"
wait_for "Welcome to AssemblyMesh"
tmux send-keys -t "$session" C-q
wait_exit

echo "tui smoke: ok"
