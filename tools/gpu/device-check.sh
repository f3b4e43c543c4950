#!/usr/bin/env bash
# The GPU check, run on the device machine from the repository root (about 8 minutes on an H200):
#   1. correctness on CUDA: each seed model's logits on the GPU against the compiled CPU forward on the same seeded
#      weights (which CI checks against PyTorch's fixtures), before anything is timed;
#   2. images/s at batch 1, 32 and 128 for the three seed models;
#   3. PyTorch (timm) on the same GPU and architectures: fp32 with TF32 off, then default TF32 and channels-last bf16.
# Usage: tools/gpu/device-check.sh [--device cuda|ilgpu-cpu] [--quick]
#   --device ilgpu-cpu runs step 1-2 on ILGPU's CPU accelerator (how the script is tested on machines without a GPU);
#   --quick: one model, batch 1 only, one timed run, then one forward kernel by kernel (bench --profile); about 2 minutes
#   with --device ilgpu-cpu on a 2-core machine (docs/gpu.md). Results go to tools/gpu/bundle/results-DATE.txt.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
device=cuda
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "device-check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

bundle="$here/bundle/res2net-linux-x64.tar.xz"
[ -f "$bundle" ] || { echo "device-check.sh: $bundle is missing: run tools/gpu/pack.sh on a machine with .NET first" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$bundle"
cli="$work/res2net/res2net"
# The .NET runtime under gVisor: W^X mapping is the first thing known to fail there.
export DOTNET_EnableWriteXorExecute=0 DOTNET_CLI_TELEMETRY_OPTOUT=1
results="$here/bundle/results-$(date -u +%Y%m%dT%H%M%SZ).txt"

{
  echo "# device check $(date -u +%Y-%m-%dT%H:%M:%SZ), --device $device"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  lscpu | grep -E 'Model name|^CPU\(s\)|CPU family'
} | tee "$results"

models=(res2net50-w14-s8_3rdparty_8xb32_in1k res2net50-w26-s8_3rdparty_8xb32_in1k res2net101-w26-s4_3rdparty_8xb32_in1k)
batches=(1 32 128)
runs=20
warmup=2
profile=()
if [ "$quick" -eq 1 ]; then models=("${models[0]}"); batches=(1); runs=1; warmup=0; profile=(--profile); fi

status=0
for model in "${models[@]}"; do
  for batch in "${batches[@]}"; do
    # bench checks the device's logits against the CPU's first and refuses to time a disagreement (exit 2).
    if ! timeout 900 "$cli" bench --model "$model" --device "$device" --batch "$batch" --iterations "$runs" --warmup "$warmup" --threads "$(nproc)" "${profile[@]}" 2>&1 | tee -a "$results"; then
      echo "device-check.sh: $model batch $batch failed" | tee -a "$results" >&2
      status=1
    fi
  done
done

if [ "$device" = cuda ] && [ "$quick" -eq 0 ]; then
  # Where the GPU's time goes: one batch-32 forward of the smallest model, kernel by kernel.
  timeout 300 "$cli" bench --model "${models[0]}" --device cuda --batch 32 --iterations 1 --warmup 1 --profile 2>&1 | tee -a "$results" || status=1
  timeout 240 python3 "$here/timm_compare.py" 2>&1 | tee -a "$results" || status=1
fi
echo "results: $results"
exit $status
