#!/usr/bin/env bash
# Bring up a one-node Slurm cluster on this machine (as root), for tests/slurm.rs and CI.
#
#   scripts/slurm-up.sh      installs slurm-wlm and munge with apt-get when sbatch is missing,
#                            starts munged, slurmctld and slurmd, waits until the node is idle;
#   scripts/slurm-down.sh    stops exactly the daemons this script started, by pid.
#
# The pids of the daemons started here are written to $BANDWISE_SLURM_STATE/pids
# (default /tmp/bandwise-slurm). Daemons already running are left alone and not recorded.
# Exit status: 0 = cluster up; 2 = cannot (not root, no apt-get, install failed): the reason
# is printed, so CI logs say why the Slurm test was skipped.
set -euo pipefail
STATE=${BANDWISE_SLURM_STATE:-/tmp/bandwise-slurm}
say() { echo "slurm-up: $*" >&2; }
cannot() { say "cannot bring up Slurm: $*"; exit 2; }

[ "$(id -u)" = 0 ] || cannot "not root (the daemons need root)"
mkdir -p "$STATE"
: >"$STATE/pids"

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || cannot "slurm-wlm is not installed and apt-get is not available"
    say "installing slurm-wlm and munge with apt-get (about a minute)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$STATE/apt.log" 2>&1 || cannot "apt-get update failed (see $STATE/apt.log)"
    apt-get install -y -qq slurm-wlm munge >>"$STATE/apt.log" 2>&1 \
        || cannot "apt-get install slurm-wlm munge failed (see $STATE/apt.log)"
fi

# munge: the package creates the key; start the daemon unless one runs.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    su -s /bin/sh munge -c /usr/sbin/munged
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    echo "munged $(cat /run/munge/munged.pid)" >>"$STATE/pids"
fi
munge -n | unmunge | grep -q Success || cannot "munge does not authenticate"

# slurm.conf for one node named after this host.
H=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=$H
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmUser=root
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$H CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! alive /run/slurmctld.pid; then
    slurmctld
    for _ in $(seq 50); do alive /run/slurmctld.pid && break; sleep 0.1; done
    echo "slurmctld $(cat /run/slurmctld.pid)" >>"$STATE/pids"
fi
if ! alive /run/slurmd.pid; then
    slurmd
    for _ in $(seq 50); do alive /run/slurmd.pid && break; sleep 0.1; done
    echo "slurmd $(cat /run/slurmd.pid)" >>"$STATE/pids"
fi
for _ in $(seq 60); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
        say "up: $(sinfo -h -o '%P %t %D nodes, %c cpus')"
        exit 0
    fi
    sleep 0.5
done
cannot "the node did not become idle in 30 s (see /var/log/slurm/slurmctld.log and slurmd.log)"
