#!/usr/bin/env bash
# The published benchmark grids of issues 11 and 16, one after another with one worker, in the order the issues give:
# Table 1 at 1M steps; then the KLip-PPO comparison on Ant and Humanoid (issue 16 queues it after the Table 1 grid, and
# these two tasks are all its done-when needs: 30 runs, against 84 for the two grids below, so it lands sessions earlier
# and theirs only that much later); its clipping and scalar-β rows on Ant-v4, the task version of their table (Ant-v5
# observes contact forces and charges their cost: our clipping scored 649 there on seed 0, and 2191 on Ant-v4 against
# their 2193; 9 runs); the paper's code-level settings, Figure 3's comparators (issue 11's order); and last the KLip-PPO
# comparison's other tasks (if compute allows). Each grid runs from a git worktree pinned at the commit it
# started from, in a virtual environment with its folder's pinned software (results/table1_1m/constraints.txt), so that
# work on main cannot change the code under a running grid. Every grid resumes where it stopped: start this again in
# each session and it skips what is stored and goes on. A session on a CPU whose torch kernels differ from a folder's
# pin (AVX2 against AVX512) goes on too, its runs a software group of their own in the report (cpu_flag below); other
# library versions stop it.
#
#   nohup scripts/grids.sh run > /tmp/grids.log 2>&1 &   # start or resume, in the background
#   scripts/grids.sh status                             # how far each grid got, and the time left (PYTHON: the
#                                                       # interpreter with this package, default python)
#   scripts/grids.sh stop                               # stop it (the run in flight is lost; it is redone next time)
#                                                       # and say, per folder, how many runs its store holds
#                                                       # against the last commit's: the ones to commit (the
#                                                       # stopped runs' claims are released)
#
# After `stop`, `status` names a partial Monitor log that the fdfa0f5 runner leaves behind: delete it before committing.
# A store with as many runs as the commit's may be reset to the committed file; one with more holds runs stored since
# (a run can be stored a moment before the stop): commit it.
set -euo pipefail
cd "$(dirname "$0")/.."
main=$PWD

# fdfa0f5 ran seed 0 of Table 1 and keeps the whole Table 1 grid; the later grids need the paper_code option, the
# comparators and the KLip-PPO objectives, which came after it: 53ad471 has them, and the fast path's fallbacks for
# hooked, frozen or replaced layers (which change no number of these grids' policies).
table1_commit=fdfa0f5
later_commit=${GRIDS_LATER_COMMIT:-53ad471}

# name | worktree commit | benchmark arguments (the folder last)
grids=(
  "table1_1m|$table1_commit|--preset table1 --fast --out $main/results/table1_1m"
  "klip (Ant, Humanoid)|$later_commit|--preset klip --envs Ant-v5 Humanoid-v5 --fast --out $main/results/klip"
  "klip on Ant-v4 (their task)|$later_commit|--preset klip --settings klip_clip_0.2 klip_fixed_kl_1 klip_adaptive_kl_0.02 --envs Ant-v4 --fast --out $main/results/klip_v4"
  "paper_code|$later_commit|--preset table1 --settings clip_0.2 adaptive_kl_0.01 --fast --paper-code --out $main/results/paper_code"
  "figure3|$later_commit|--preset figure3 --out $main/results/table1_1m"
  "klip (the rest)|$later_commit|--preset klip --fast --out $main/results/klip"
)

checkout() {  # the worktree and venv of a commit, made on first use: prints the venv's python
  local commit=$1 tree="$main/../grid-code-$1" venv="$main/../grid-venv-$1"
  if [ ! -d "$tree" ]; then
    git -C "$main" worktree add --detach "$tree" "$commit" >&2
  fi
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -c "$main/results/table1_1m/constraints.txt" torch==2.13.0 -e "$tree[benchmark]" >&2
  fi
  echo "$venv/bin/python"
}

cpu_flag() {  # --allow-software-mismatch when a grid's folder is pinned to another CPU capability and nothing else
  # Torch's CPU kernels differ between AVX2 and AVX512 machines, and which one a session gets is not ours to choose:
  # a CPU that lacks the pinned instructions cannot repeat the stored runs bit for bit, so its runs join the folder
  # as their own software group (the report shows the groups). A library version that differs from the pin is
  # another matter (the venv was installed with the folder's constraints): that stops the grid.
  local python=$1 folder=$2
  [ -f "$folder/results.sqlite" ] || return 0
  "$python" - "$folder" <<'PY'
import sys

from sb3_ppo_variants.benchmark.software import CPU_CAPABILITY, current_software, mismatches
from sb3_ppo_variants.benchmark.store import ResultsStore

pin = ResultsStore(sys.argv[1]).pin()
differ = mismatches(pin, current_software()) if pin else []
if any(not line.startswith(CPU_CAPABILITY + ":") for line in differ):
    sys.exit(f"{sys.argv[1]}: libraries differ from the folder's pin: {differ}")
if differ:
    print(f"{differ[0]}: this CPU's runs join the folder as their own software group", file=sys.stderr)
    print("--allow-software-mismatch")
PY
}

runs_in() {  # the number of runs a results store holds (- : the store's bytes on stdin, e.g. from git show)
  python3 - "$1" 3<&0 <<'PY'
import os, sqlite3, sys, tempfile

def count(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        db.close()

if sys.argv[1] != "-":
    print(count(sys.argv[1]))
else:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "results.sqlite")
        with open(path, "wb") as copy, os.fdopen(3, "rb") as given:
            copy.write(given.read())
        print(count(path))
PY
}

release_dead_claims() {  # drop a store's claims whose runner is gone (the runs `stop` ended), as the store judges a
  # claim (ResultsStore.live_claims): a committed claim would name a pid that another process of a later session may
  # hold, and keep its run from running. $1: an interpreter with the package; $2: the store's folder
  "$1" - "$2" <<'PY'
import sqlite3, sys

from sb3_ppo_variants.benchmark.store import ResultsStore

store = ResultsStore(sys.argv[1])
with sqlite3.connect(store.path) as db:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claims'").fetchone()
    keys = [key for (key,) in db.execute("SELECT key FROM claims")] if found else []
live = store.live_claims()
for key in keys:
    if key not in live:
        store.release(key)
PY
}

case "${1:-}" in
  run)
    for grid in "${grids[@]}"; do
      IFS='|' read -r name commit arguments <<<"$grid"
      python=$(checkout "$commit")
      echo "== $name, from $commit: $(date -u +%FT%TZ)"
      mismatch=$(cd "$main/../grid-code-$commit" && cpu_flag "$python" "${arguments##*--out }")
      # shellcheck disable=SC2086
      (cd "$main/../grid-code-$commit" && "$python" -m sb3_ppo_variants.benchmark run $arguments --workers 1 --no-progress $mismatch)
    done
    echo "== all grids complete: $(date -u +%FT%TZ)"
    ;;
  status)
    for grid in "${grids[@]}"; do
      IFS='|' read -r name commit arguments <<<"$grid"
      echo "== $name, from $commit"
      # shellcheck disable=SC2086
      "${PYTHON:-python}" -m sb3_ppo_variants.benchmark status $arguments 2>&1 || true
    done
    ;;
  stop)
    # the script first, so that it does not go on to the next grid when its run is stopped
    pkill -f "scripts/grids.sh run" || true
    pkill -f "sb3_ppo_variants.benchmark run" || true
    for _ in $(seq 60); do  # up to 30 s for the runs to end, so that the counts below are final
      pgrep -f "sb3_ppo_variants.benchmark run" > /dev/null || break
      sleep 0.5
    done
    for folder in $(for grid in "${grids[@]}"; do echo "${grid##*--out }"; done | sort -u); do
      [ -f "$folder/results.sqlite" ] || continue
      # the queue's newest commit's environment has the package (made by `run`)
      python="$main/../grid-venv-$later_commit/bin/python"
      [ -x "$python" ] && release_dead_claims "$python" "$folder"
      relative=${folder#"$main"/}
      committed=$({ git -C "$main" show "HEAD:$relative/results.sqlite" | runs_in -; } 2> /dev/null || echo 0)
      echo "$relative: $(runs_in "$folder/results.sqlite") runs stored, $committed in the last commit"
    done
    ;;
  *)
    echo "usage: scripts/grids.sh run|status|stop" >&2
    exit 2
    ;;
esac
