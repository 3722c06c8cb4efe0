#!/usr/bin/env bash
# The one prepared benchmark for a machine with a real GPU. Runs the native benchmark
# (benches/native.rs: head training, MobileNetV2 features, a fine-tune step, MiniLM embedding)
# on burn's flex CPU backend, on burn's wgpu runtime (Vulkan on Linux) and on burn's CUDA backend
# on the same machine, then `kindling train` on one GPU and, where there are two, on two
# (data-parallel), and — where a Chromium with a hardware WebGPU adapter and the browser benchmark's npm packages
# are present — the browser benchmark with BENCH_DEVICES=webgpu,cpu; writes one JSON file.
#
#   bash benches/gpu.sh                     # builds both (needs the crates: cargo fetch first)
#   KINDLING_BENCH_BIN=path KINDLING_CLI_BIN=path bash benches/gpu.sh
#                                           # binaries built elsewhere with --features gpu,cuda
#
# Building needs no CUDA toolkit (the `cuda` feature loads the driver at run time); a build
# without the feature reports CUDA as skipped. The CLI runs need the Fashion-MNIST fixtures
# (tests/fixtures/fashion) and MobileNetV2's weights in $KINDLING_WEIGHTS_DIR.
#
# GPU_BENCH_BROWSER=0 leaves the browser out; GPU_BENCH_TIMEOUT (s, default 240) bounds each run.
#
# Output: $GPU_JSON (default: gpu-bench.json):
#   { machine, native: { cpu, webgpu, cuda }, cli: { one, two }, browser }.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${GPU_JSON:-gpu-bench.json}"
logs="$(mktemp -d)"

bin="${KINDLING_BENCH_BIN:-}"
# CUDA's build downloads an LLVM bundle (README, Command line): without it, wgpu and the CPU.
bench_bin() {
  cargo bench --bench native --features "$1" --profile release --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1
}
if [[ -z "$bin" ]]; then
  bin="$(bench_bin gpu,cuda)"
  [[ -x "$bin" ]] || bin="$(bench_bin gpu)"
fi
cli="${KINDLING_CLI_BIN:-}"
if [[ -z "$cli" ]]; then
  cargo build --release --features gpu,cuda --bin kindling >/dev/null 2>&1 &&
    cli="$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
      sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/kindling"
fi
if [[ ! -x "$bin" ]]; then
  echo "no bench binary (set KINDLING_BENCH_BIN, or build with: cargo bench --bench native --features gpu[,cuda] --no-run)" >&2
  exit 2
fi

gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
echo "GPU: ${gpu:-none reported by nvidia-smi}"
echo "CPU: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

json_of() { # the figures a run wrote, or null with why
  if [[ -s "$1" ]]; then cat "$1"; else printf '{"skipped": "%s"}' "$2"; fi
}

for device in cpu webgpu cuda; do
  echo "== native, $device"
  KINDLING_BENCH_DEVICE="$device" KINDLING_NATIVE_JSON="$logs/$device.json" \
    timeout "${GPU_BENCH_TIMEOUT:-240}" "$bin" 2>&1 | tee "$logs/$device.log"
done

# kindling train end to end (Balanced: the last 2 blocks fine-tune) on the 27 fixture images
# copied 20 times (540 images), on one CUDA device and, with two GPUs, on both.
cli_one='{"skipped": "no kindling CLI built with --features cuda"}'
cli_two='{"skipped": "fewer than two GPUs"}'
weights="${KINDLING_WEIGHTS_DIR:-$HOME/.cache/kindling/weights}/mobilenet_v2.safetensors"
if [[ -x "$cli" && -s "$weights" ]]; then
  data="$logs/images"
  for class in bag trouser tshirt; do
    mkdir -p "$data/$class"
    for copy in $(seq 1 20); do
      for f in tests/fixtures/fashion/$class-*.png; do cp "$f" "$data/$class/$copy-$(basename "$f")"; done
    done
  done
  cli_run() { # devices, name: the run's wall time (with loading and decoding) as JSON
    local start end
    start="$(date +%s%N)"
    if timeout "${GPU_BENCH_TIMEOUT:-240}" "$cli" train --data "$data" --backbone mobilenet-v2 \
      --weights "$weights" --recipe balanced --device "$1" --out "$logs/$2.safetensors" \
      --metrics "$logs/$2-metrics.json" >"$logs/$2.log" 2>&1; then
      end="$(date +%s%N)"
      printf '{"devices": "%s", "ms": %s, "images": 540}' "$1" "$(((end - start) / 1000000))"
    else
      printf '{"devices": "%s", "failed": "%s"}' "$1" "$(tail -2 "$logs/$2.log" | tr -d '"\\' | tr '\n' ' ')"
    fi
  }
  echo "== kindling train, cuda:0"
  cli_one="$(cli_run cuda:0 one)"
  echo "$cli_one"
  if [[ "$(nvidia-smi -L 2>/dev/null | wc -l)" -ge 2 ]]; then
    echo "== kindling train, cuda:0,cuda:1"
    cli_two="$(cli_run cuda:0,cuda:1 two)"
    echo "$cli_two"
  fi
fi

browser='{"skipped": "no chromium with the browser benchmark here"}'
if [[ "${GPU_BENCH_BROWSER:-1}" == 1 ]] && command -v chromium >/dev/null &&
  [[ -d benches/browser/node_modules ]] && [[ -d www/pkg ]]; then
  echo "== browser, BENCH_DEVICES=webgpu,cpu"
  BENCH_DEVICES=webgpu,cpu BENCH_JSON="$logs/browser.json" CHROMIUM="$(command -v chromium)" \
    timeout -k 10 "${GPU_BENCH_TIMEOUT:-240}" node benches/browser/run.mjs 2>&1 | tee "$logs/browser.log"
  browser="$(json_of "$logs/browser.json" "the browser benchmark failed: see its log")"
fi

cpu_reason="$(tail -3 "$logs/cpu.log" | tr -d '"\\' | tr '\n' ' ')"
gpu_reason="$(tail -3 "$logs/webgpu.log" | tr -d '"\\' | tr '\n' ' ')"
cuda_reason="$(tail -3 "$logs/cuda.log" | tr -d '"\\' | tr '\n' ' ')"
printf '{"machine": {"gpu": "%s", "cores": %s}, "native": {"cpu": %s, "webgpu": %s, "cuda": %s}, "cli": {"one": %s, "two": %s}, "browser": %s}\n' \
  "${gpu:-none}" "$(nproc)" \
  "$(json_of "$logs/cpu.json" "$cpu_reason")" "$(json_of "$logs/webgpu.json" "$gpu_reason")" \
  "$(json_of "$logs/cuda.json" "$cuda_reason")" "$cli_one" "$cli_two" \
  "$browser" > "$out"
echo "wrote $out"
