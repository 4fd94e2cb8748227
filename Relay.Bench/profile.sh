#!/usr/bin/env bash
# Profiles one e2e scenario with perf: every process on the machine sampled with call stacks, .NET frames named
# through the runtime's perf maps. Prints, for the relay (or raw server) processes, PostgreSQL
# and the load generator, the symbols that took the most CPU. Needs perf (Debian: linux-perf), run as root.
#
#   Relay.Bench/profile.sh fanout            # writes artifacts/profile/fanout/{perf.data,run.log,report.txt}
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:?usage: Relay.Bench/profile.sh <scenario> [--quick]}
out=artifacts/profile/$scenario
mkdir -p "$out"
dotnet build -c Release Relay.Bench -v q -nologo >/dev/null
# Perf maps name JIT-compiled code only, and perf finds it only without the W^X double mapping: turn that off, and the
# framework's precompiled (ReadyToRun) code, so that all managed code is JIT-compiled and named.
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_ReadyToRun=0
perf record -F 199 -a -g -o "$out/perf.data" -- \
    dotnet run -c Release --project Relay.Bench --no-build -- e2e "$scenario" "${@:2}" 2>&1 | tee "$out/run.log"

top() {  # top <title> <perf report filter options...>: the share of each binary, then the hottest symbols
    local report
    report=$(perf report -i "$out/perf.data" --no-children --percentage relative --sort dso,sym --stdio -g none "${@:2}" \
        2>/dev/null | grep -E '^ +[0-9]' || true)
    echo "### $1"
    echo
    echo "by binary ([JIT] is managed code; libcoreclr is the runtime, mostly the GC):"
    awk '{ sub("%", "", $1); dso = $2; share[dso] += $1 }
         END { for (d in share) if (share[d] >= 1) printf "  %6.2f%%  %s\n", share[d], d }' <<<"$report" | sort -rn
    echo "hottest symbols:"
    head -n 25 <<<"$report"
    echo
}
{
    echo "## where each process spent its CPU ($scenario)"
    echo
    for line in $(grep -oE '(relay\.dll|Relay\.Bench\.dll) [a-z-]+ started: pid [0-9]+' "$out/run.log" | awk '{print $1 "/" $NF}'); do
        top "server ${line%%/*} (pid ${line##*/})" --pid "${line##*/}"
    done
    top "PostgreSQL (all postgres processes)" --comms postgres
    top "load generator (pid $(grep -oE 'load generator: pid [0-9]+' "$out/run.log" | awk '{print $NF}'))" \
        --pid "$(grep -oE 'load generator: pid [0-9]+' "$out/run.log" | awk '{print $NF}')"
} | tee "$out/report.txt"
