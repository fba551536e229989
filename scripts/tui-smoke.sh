#!/usr/bin/env bash
# End-to-end smoke test of the terminal UI: runs the real program in tmux and reads the
# screen. Exits non-zero on the first failure. Needs tmux; uses $AM (default: the venv's
# assemblymesh, else the one on PATH).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
AM="${AM:-$here/.venv/bin/assemblymesh}"
[ -x "$AM" ] || AM="$(command -v assemblymesh)"
TIMEOUT="${SMOKE_TIMEOUT:-60}"
session="am-smoke-$$"
work="$(mktemp -d)"
# A tmux server of our own: a running one would hand new sessions its own environment.
tmux() { command tmux -L "$session" "$@"; }
trap 'tmux kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- screen ---" >&2
    tmux capture-pane -p -t "$session" >&2 2>/dev/null || true
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
    # Textual draws on stderr: leave it on the terminal. The UI runs its network node beside
    # it unless told not to: keep the smoke test off the LAN.
    tmux new-session -d -s "$session" -x "${COLS:-100}" -y "${ROWS:-30}" \
        "env ASSEMBLYMESH_OFFLINE=1 $*"
}

# The pane's text now (for checks that must not wait).
screen() { tmux capture-pane -p -t "$session" 2>/dev/null; }

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
ASSEMBLYMESH_HOME="$home" "$AM" init --name "Smoke Co-op" --member-name Ana </dev/null >/dev/null
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

echo "3. first run: typing goes into the first field, q and t included; found an assembly"
COLS=80 ROWS=24 start "ASSEMBLYMESH_HOME=$work/first $AM tui"
wait_for "▶ Assembly name"  # the focus is in the first field, and says so in words
tmux send-keys -t "$session" -l "qt"
wait_for "qt"  # typed into the name field: neither quit nor a theme switch
tmux has-session -t "$session" 2>/dev/null || fail "typing q in the first field quit the app"
tmux send-keys -t "$session" -l " Co-op"
tmux send-keys -t "$session" Enter
wait_for "▶ Your name"  # the focus moves on before the next field is typed
tmux send-keys -t "$session" -l "Ines"
tmux send-keys -t "$session" Enter
wait_for "▶ Charter"
tmux send-keys -t "$session" -l "Share tools"
tmux send-keys -t "$session" Enter
wait_for "qt Co-op — you: Ines (facilitator)"
tmux send-keys -t "$session" q
wait_exit

echo "4. join with an invite code pasted over several lines; a damaged one is refused"
code="$(ASSEMBLYMESH_HOME="$home" "$AM" invite --no-qr --hint 127.0.0.1:7361 | tail -n 1)"
fold -w 60 <<<"$code" >"$work/code.txt"
# One character changed in the middle (to a different one of the same alphabet).
middle="${code:40:1}"
swap="b"; [ "$middle" = "b" ] && swap="c"
fold -w 60 <<<"${code:0:40}$swap${code:41}" >"$work/damaged.txt"
COLS=80 ROWS=24 start "ASSEMBLYMESH_HOME=$work/joiner $AM tui"
wait_for "Welcome to AssemblyMesh"
tmux send-keys -t "$session" BTab  # from the first field to the tabs
tmux send-keys -t "$session" Right  # Found -> Join: the code field takes the focus
wait_for "▶ Invite code"
tmux load-buffer "$work/damaged.txt"
tmux paste-buffer -p -t "$session"  # bracketed, as a terminal pastes
wait_for "${code: -12}"  # the whole code arrived (its last line is the last to show)
tmux send-keys -t "$session" Tab
wait_for "▶ Your name"
tmux send-keys -t "$session" -l "Noor"
tmux send-keys -t "$session" Enter
wait_for "the invite code is damaged"
wait_for "▶ Invite code"  # the error put the focus back on the code
tmux load-buffer "$work/code.txt"
tmux paste-buffer -p -t "$session"  # a pasted code replaces the damaged one
wait_for "${code:30:20}"
tmux send-keys -t "$session" Tab
wait_for "▶ Your name"
tmux send-keys -t "$session" Enter
wait_for "Not admitted yet: sync with a member"
tmux send-keys -t "$session" q
wait_exit
[[ "$(ASSEMBLYMESH_HOME="$work/joiner" "$AM" status)" == *"not admitted yet"* ]] ||
    fail "the join from the pasted code is not in the store"

echo "5. a reused invite: the node says why, and the UI offers a new code or leave"
host="$work/host"
port=$((20000 + RANDOM % 20000))
ASSEMBLYMESH_HOME="$host" "$AM" init --name "Host Co-op" --member-name Hana </dev/null >/dev/null
ASSEMBLYMESH_HOME="$host" "$AM" serve --listen "127.0.0.1:$port" --no-mdns >"$work/serve.log" 2>&1 &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; tmux kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
reused="$(ASSEMBLYMESH_HOME="$host" "$AM" invite --no-qr --hint "127.0.0.1:$port" | tail -n 1)"
ASSEMBLYMESH_HOME="$work/omar" "$AM" join "$reused" --member-name Omar </dev/null >/dev/null
deadline=$((SECONDS + TIMEOUT))
until ASSEMBLYMESH_HOME="$work/omar" "$AM" sync --timeout 5 >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "the first joiner could not sync with 'serve'"
    sleep 0.3
done
ASSEMBLYMESH_HOME="$work/lea" "$AM" join "$reused" --member-name Lea </dev/null >/dev/null
if out="$(ASSEMBLYMESH_HOME="$work/lea" "$AM" sync --timeout 10 2>&1)"; then
    fail "a reused invite synced: $out"
fi
[[ "$out" == *"already used by someone else"* && "$out" == *"--new-code"* ]] ||
    fail "sync did not say why the invite was refused: $out"
COLS=80 ROWS=24 start "ASSEMBLYMESH_HOME=$work/lea $AM tui"
wait_for "Your invite was refused"
wait_for "already used by someone else"
# Each key is sent once what the one before it did shows: text typed into the code field,
# then the name field; two tabs on from there are "Join with the new code", then "Leave".
tmux send-keys -t "$session" -l "zq"
wait_for "zq"
tmux send-keys -t "$session" Tab
tmux send-keys -t "$session" -l "Lea"
wait_for "Lea "
tmux send-keys -t "$session" Tab
tmux send-keys -t "$session" Tab
tmux send-keys -t "$session" Enter
wait_for "Welcome to AssemblyMesh"  # left: the first-run screen again
tmux send-keys -t "$session" C-q
wait_exit
[ -z "$(ls -A "$work/lea/assemblies" 2>/dev/null)" ] || fail "leaving kept the refused join"
kill "$serve_pid"

echo "6. a damaged store: one line and a non-zero exit status, as on the command line"
store="$(ls "$home"/assemblies/*/store.sqlite)"
head -c 4096 /dev/urandom >"$store"
COLS=300 start "ASSEMBLYMESH_HOME=$home $AM; echo exit=\$?; sleep 60"  # wide: one line
wait_for "exit=1"
screen | grep -q "^error: .*corrupt" || fail "no one-line error for the damaged store"
tmux kill-session -t "$session"

echo "tui smoke: ok"
