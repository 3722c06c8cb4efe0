#!/usr/bin/env bash
# The one prepared benchmark for a machine with a real GPU. Runs the native benchmark
# (benches/native.rs: head training, MobileNetV2 features, a fine-tune step, MiniLM embedding)
# on burn's flex CPU backend and on burn's wgpu runtime (Vulkan on Linux) on the same machine,
# and — where a Chromium with a hardware WebGPU adapter and the browser benchmark's npm packages
# are present — the browser benchmark with BENCH_DEVICES=webgpu,cpu; writes one JSON file.
#
#   bash benches/gpu.sh                     # builds the bench (needs the crates: cargo fetch first)
#   KINDLING_BENCH_BIN=path bash benches/gpu.sh   # a bench binary built elsewhere with --features gpu
#
# Output: $GPU_JSON (default: gpu-bench.json): { machine, native: { cpu, webgpu }, browser }.
# CUDA is not in it: burn's cuda backend needs the CUDA toolkit where it is built (README).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${GPU_JSON:-gpu-bench.json}"
logs="$(mktemp -d)"

bin="${KINDLING_BENCH_BIN:-}"
if [[ -z "$bin" ]]; then
  bin="$(cargo bench --bench native --features gpu --profile release --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
fi
if [[ ! -x "$bin" ]]; then
  echo "no bench binary (set KINDLING_BENCH_BIN, or build with: cargo bench --bench native --features gpu --no-run)" >&2
  exit 2
fi

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
echo "GPU: ${gpu:-none reported by nvidia-smi}"
echo "CPU: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

json_of() { # the figures a run wrote, or null with why
  if [[ -s "$1" ]]; then cat "$1"; else printf '{"skipped": "%s"}' "$2"; fi
}

for device in cpu webgpu; do
  echo "== native, $device"
  KINDLING_BENCH_DEVICE="$device" KINDLING_NATIVE_JSON="$logs/$device.json" \
    timeout "${GPU_BENCH_TIMEOUT:-240}" "$bin" 2>&1 | tee "$logs/$device.log"
done

browser='{"skipped": "no chromium with the browser benchmark here"}'
if command -v chromium >/dev/null && [[ -d benches/browser/node_modules ]] && [[ -d www/pkg ]]; then
  echo "== browser, BENCH_DEVICES=webgpu,cpu"
  BENCH_DEVICES=webgpu,cpu BENCH_JSON="$logs/browser.json" CHROMIUM="$(command -v chromium)" \
    timeout "${GPU_BENCH_TIMEOUT:-240}" node benches/browser/run.mjs 2>&1 | tee "$logs/browser.log"
  browser="$(json_of "$logs/browser.json" "the browser benchmark failed: see its log")"
fi

cpu_reason="$(tail -3 "$logs/cpu.log" | tr -d '"\\' | tr '\n' ' ')"
gpu_reason="$(tail -3 "$logs/webgpu.log" | tr -d '"\\' | tr '\n' ' ')"
printf '{"machine": {"gpu": "%s", "cores": %s}, "native": {"cpu": %s, "webgpu": %s}, "browser": %s}\n' \
  "${gpu:-none}" "$(nproc)" \
  "$(json_of "$logs/cpu.json" "$cpu_reason")" "$(json_of "$logs/webgpu.json" "$gpu_reason")" \
  "$browser" > "$out"
echo "wrote $out"
