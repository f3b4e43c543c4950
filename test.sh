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

# The kernels again without AVX-512 (the Vector256 paths AVX2-only machines take: no DirectConv, other tiles), with
# the forward tests: the tiny networks against PyTorch, and random specs against the reference interpreter.
if [ "$rc" -eq 0 ]; then
  echo "Kernel and forward tests with AVX-512 disabled:"
  DOTNET_EnableAVX512F=0 dotnet test Res2Net.Tests/Res2Net.Tests.csproj --no-build "$@" \
    --filter "FullyQualifiedName~Res2Net.Tests.Kernels|FullyQualifiedName~Res2Net.Tests.Forward" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
fi

# xunit's summary ("Passed!  - Failed: 0, Passed: 95, ...") is not a line CI reads; restate it plainly.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a build error runs no test but must not look green
echo "$passed passed, $failed failed"
exit "$rc"
