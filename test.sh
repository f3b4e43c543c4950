#!/usr/bin/env bash
# Restores, builds and runs the whole test suite on a machine with the .NET 10 SDK; nothing else is needed
# (no Python: PyTorch's reference outputs are committed fixtures). Prints "N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test Res2Net.slnx "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# xunit's summary ("Passed!  - Failed: 0, Passed: 95, ...") is not a line CI reads; restate it plainly.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build error runs no test but must not look green
echo "$passed passed, $failed failed"
exit "$rc"
