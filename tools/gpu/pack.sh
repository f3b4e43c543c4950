#!/usr/bin/env bash
# Builds the bundle the GPU machine runs (it has CUDA, PyTorch and timm but no .NET): a self-contained linux-x64 publish of
# the `res2net` CLI, without ONNX Runtime's native library (bench --compare onnxruntime is not needed there and it is the
# largest file), packed as tools/gpu/bundle/res2net-linux-x64.tar.xz (git-ignored; travels with the working tree, which is
# limited to 64 MiB), beside device-check.sh and timm_compare.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/bundle"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

dotnet publish "$root/Res2Net.Cli/Res2Net.Cli.csproj" -c Release -r linux-x64 --self-contained \
  -p:InvariantGlobalization=true -o "$stage/res2net" >&2
rm -f "$stage"/res2net/libonnxruntime*.so* "$stage"/res2net/*.pdb
mkdir -p "$out"
tar -C "$stage" -cJf "$out/res2net-linux-x64.tar.xz" res2net
du -h "$out/res2net-linux-x64.tar.xz" >&2
echo "$out/res2net-linux-x64.tar.xz"
