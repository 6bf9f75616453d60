#!/usr/bin/env bash
# Runs every fuzz target in turn for MINUTES each (default 30) with the corpus kept in the
# repository (fuzz/corpus/<target>), seeded from the test data, then minimises each corpus
# (`cargo fuzz cmin`). The inputs of defects found so far (fuzz/regressions/<target>/) are
# replayed on every run, the smoke run included, and never minimised away. Stops with a
# non-zero exit on the first crash; the crashing input is in fuzz/artifacts/<target>/. Prints,
# per target, the executions, the corpus size and the coverage (libFuzzer's `cov:` edges)
# reached. Needs a nightly toolchain and cargo-fuzz (installed here when missing). The CI runs
# a short smoke pass instead: `scripts/fuzz.sh --smoke`.
#
#   bash scripts/fuzz.sh            # 30 minutes per target
#   bash scripts/fuzz.sh 5          # 5 minutes per target
#   bash scripts/fuzz.sh 1 query    # one target
#   bash scripts/fuzz.sh --smoke    # 10-30 s per target, no minimising (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(redact json emf redact_config attr query correlation_path)
smoke=false
minutes=30
if [[ "${1:-}" == "--smoke" ]]; then
  smoke=true
  shift
elif [[ -n "${1:-}" ]]; then
  minutes=$1
  shift
fi
if [[ $# -gt 0 ]]; then
  targets=("$@")
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi

# Seeds from the test data, added to the corpus when missing (file name = content hash).
seed() {
  local target=$1 dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  python3 - "$target" "$dir" <<'PY'
import glob, hashlib, json, os, re, sys
target, out = sys.argv[1], sys.argv[2]
seeds = []
if target == "redact":
    for line in open("tests/data/pii/corpus.jsonl"):
        case = json.loads(line)
        text = case.get("text") or case.get("input") or ""
        seeds.append(b"\x00" + text.encode())
elif target == "json":
    seeds += [b"plain", "quote \" backslash \\ tab \t nl \n ctl \x01 é 😀".encode()]
elif target == "redact_config":
    for path in ["instrument-core/src/redact/config.rs"] + sorted(glob.glob("instrument-core/src/redact/vendor/*.rs")):
        text = open(path).read()
        for m in re.finditer(r'r#"(\{.*?\})"#', text, re.S):
            seeds.append("\n".join(l.lstrip("/ ") for l in m.group(1).splitlines()).encode())
    seeds.append(b"{}")
elif target == "attr":
    for path in glob.glob("ui-tests/tests/ui/*/*.rs") + glob.glob("examples/*.rs") + glob.glob("tests/*.rs"):
        for m in re.finditer(r"track_performance\((.*?)\)\]", open(path).read(), re.S):
            seeds.append(m.group(1).encode())
elif target == "query":
    log = open("instrument-query/tests/data/samples.log", "rb").read()[:4000]
    for path in glob.glob("instrument-query/queries/*.insights"):
        seeds.append(open(path, "rb").read() + b"\x00" + log)
    seeds.append(b'SELECT AVG("booking.latency") FROM "Ticketing" GROUP BY service\x00'
                 + open("instrument-query/tests/data/booking.log", "rb").read()[:4000])
elif target == "correlation_path":
    for path in glob.glob("tests/data/lambda/*.json"):
        event = open(path, "rb").read()
        for p in [b"header", b"api_gateway_rest", b"alb", b"sqs", b"eventbridge", b"detail.orderId",
                  b"requestContext.requestId", b"Records.0.messageAttributes.correlation_id.stringValue"]:
            seeds.append(p + b"\x00" + event)
for s in seeds:
    name = os.path.join(out, "seed-" + hashlib.sha1(s).hexdigest()[:16])
    if not os.path.exists(name):
        open(name, "wb").write(s)
PY
}

status=0
for target in "${targets[@]}"; do
  seed "$target"
  if $smoke; then
    seconds=10
    [[ $target == redact ]] && seconds=30
  else
    seconds=$((minutes * 60))
  fi
  echo "fuzz: $target for ${seconds} s (corpus: $(ls "fuzz/corpus/$target" | wc -l) inputs)"
  log="fuzz/target/fuzz-$target.log"
  mkdir -p fuzz/target
  # Named inputs of defects found so far (fuzz/regressions/<target>/) are replayed too; new
  # inputs go to the first corpus only, and cmin only minimises that one.
  corpora=("corpus/$target")
  if [[ -d "fuzz/regressions/$target" ]]; then
    corpora+=("regressions/$target")
  fi
  if ! (cd fuzz && cargo +nightly fuzz run "$target" "${corpora[@]}" -- \
      -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=4096 >"../$log" 2>&1); then
    tail -n 40 "$log"
    echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/)"
    status=1
    break
  fi
  # libFuzzer's last status line: "#<execs> DONE cov: <edges> ft: <features> corp: <n>/<size>".
  summary=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  echo "fuzz: $target ok: ${summary:-no status line}"
  if ! $smoke; then
    (cd fuzz && cargo +nightly fuzz cmin "$target" "corpus/$target" >/dev/null 2>&1) || true
    echo "fuzz: $target corpus minimised to $(ls "fuzz/corpus/$target" | wc -l) inputs"
  fi
done
exit $status
