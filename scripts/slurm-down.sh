#!/usr/bin/env bash
# Stop the Slurm daemons that scripts/slurm-up.sh started, by the pids it recorded
# (slurmd first, then slurmctld, then munged). Daemons it did not start are left alone.
set -uo pipefail
STATE=${BANDWISE_SLURM_STATE:-/tmp/bandwise-slurm}
[ -f "$STATE/pids" ] || exit 0
tac "$STATE/pids" | while read -r name pid; do
    [ -n "$pid" ] || continue
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "slurm-down: stopped $name (pid $pid)" >&2
    fi
done
rm -f "$STATE/pids"
