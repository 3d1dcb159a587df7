#!/usr/bin/env bash
# Every script in benchmarks/ at toy size (about 4 min on 2 cores): catches a benchmark that no
# longer runs against today's API before its README figures are reproduced with it. The numbers
# printed here mean nothing; the full-size commands are in the README and docs/.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$(mktemp -d)"
failed=()
run() {
  local name=$1; shift
  if PYTHONPATH=src timeout 600 .venv/bin/python "$@" > "$out/$name.log" 2>&1; then
    echo "ok      $name"
  else
    echo "FAILED  $name (log: $out/$name.log)"; failed+=("$name")
  fi
}
run startup          benchmarks/startup.py --repeats 1
run tables           benchmarks/tables.py --rows 2000
run checkpoints      benchmarks/checkpoints.py --dir "$out/ck" --repeats 1
run train_throughput benchmarks/train_throughput.py --epochs 1 --rows 2000 --repeats 1
run deploy           benchmarks/deploy.py --parts parity,cold,throughput --rows 1000 --table-rows 5000
run deploy_server    benchmarks/deploy.py --parts server --clients 1,20 --seconds 1
run fewshot          benchmarks/fewshot.py --data mnist --shots 1,5 --seeds 0 --epochs 1 --limit 600 --test-limit 200
run fewshot_pretrain benchmarks/fewshot_select.py pretrain --epochs 1 --limit 1200 --cache "$out/select"
run fewshot_select   benchmarks/fewshot_select.py eval --limit 1200 --seeds 0 --shots 1 --cache "$out/select"
run fewshot_pretrain_mnist benchmarks/fewshot_select.py pretrain --data mnist --epochs 1 --limit 600 --cache "$out/select-mnist"
run fewshot_finetune benchmarks/fewshot_select.py finetune --data mnist --limit 600 --seeds 0 --shots 2 --cache "$out/select-mnist"
run tune             benchmarks/tune.py --trials 2 --epochs 1 --out "$out/tune"
run zoo              benchmarks/zoo.py --epochs 1 --data mnist --only mlp
run greedy           benchmarks/greedy.py --epochs 1 --stage-epochs 1 --data mnist --only stack
run audio            benchmarks/audio.py --parts speed --epochs 1 --train-per-speaker 2 --test-clips 2
run audio_validation benchmarks/audio.py --parts validation --quick --epochs 1
run anomaly          benchmarks/anomaly.py --parts dev --sets confirm --seeds 1 --methods default
run anomaly_ensemble benchmarks/anomaly.py --parts ensemble --sets wine --seeds 1 --threads 1
run anomaly_oob      benchmarks/anomaly.py --parts oob --sets iris --seeds 1 --threads 1
[ ${#failed[@]} -eq 0 ] || { echo "benchmarks that no longer run: ${failed[*]}" >&2; exit 1; }
