#!/usr/bin/env bash
# shellcheck disable=SC2317  # the clean-up functions are called from traps
# A real local cluster on loopback: a head and two node daemons as separate processes, each
# with its own data directory in a temporary folder. Shows the cluster's status and nodes,
# draining, keys, jobs (one that runs, one that fails and is retried, one cancelled, a gang of
# 2 PyTorch tasks across both nodes whose logs are followed, the job table), training (a 2-rank
# job, its metrics, the registry, a node killed under a job), serving (the trained model over
# HTTP, a promotion under load, /metrics, a predict job scoring a dataset), failure detection
# (a node frozen with SIGSTOP is declared dead, then rejoins with a new incarnation after
# SIGCONT), a clean leave (SIGTERM), and a clean stop.
# Everything it starts is stopped, and the folder removed, on exit.
# Environment: those of tools/setup.sh (TROUPE_BUILD_DIR, TROUPE_JOBS, ...);
# TROUPE_DEMO_KEEP=1 keeps the temporary folder (logs, data directories).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${TROUPE_BUILD_DIR:-build}"
BIN="$PWD/$BUILD_DIR/bin"
TMP=""
HEAD=""
NAMES=(head node-1 node-2)
declare -A PID=() # daemon name -> pid, while it runs
STEP=0

say() { printf '    %s\n' "$*"; }
section() {
  STEP=$((STEP + 1))
  printf '\n==> %d. %s\n' "$STEP" "$*"
}
die() {
  printf '\n[demo] error: %s\n' "$*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The CLI, talking to our head.
# The head's admin credential: every link is CURVE-authenticated (docs/security.md).
troupe() { "$BIN/troupe" --head "$HEAD" --data-dir "$TMP/head" --timeout-ms 2000 "$@"; }
# Shows a CLI command and what it prints, indented to stand apart from our own lines.
show() {
  printf '    $ troupe %s\n' "$*"
  troupe "$@" | sed 's/^/      /'
}

print_logs() {
  local name f
  for name in "${NAMES[@]}"; do
    for f in "$TMP/$name.log" "$TMP/$name.out"; do
      [[ -s "$f" ]] || continue
      printf '\n--- last lines of %s ---\n' "$f" >&2
      tail -n 25 "$f" >&2
    done
  done
}

# Stops the daemon NAME: SIGTERM (after SIGCONT, in case it is frozen), SIGKILL after
# LIMIT seconds. Returns its exit status (137 when it had to be killed).
stop_daemon() {
  local name=$1 limit=${2:-10} pid=${PID[$1]:-} i status=0
  [[ -n "$pid" ]] || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    printf '[demo] %s (pid %s) did not stop within %s s of SIGTERM: SIGKILL\n' \
      "$name" "$pid" "$limit" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  unset "PID[$name]"
  return "$status"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # On a failure (not on Ctrl-C or SIGTERM), the daemons' logs tell what happened.
  if ((rc != 0 && rc != 130 && rc != 143)) && [[ -n "$TMP" ]]; then
    print_logs
  fi
  local name
  # Nodes first, so that they can still deregister from the head.
  for name in node-2 node-1 head; do
    stop_daemon "$name" 5 || true
  done
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ "${TROUPE_DEMO_KEEP:-0}" == 1 ]]; then
      printf '[demo] kept %s\n' "$TMP"
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Fails if a daemon that should be running has exited.
check_daemons() {
  local name
  for name in "${!PID[@]}"; do
    if ! kill -0 "${PID[$name]}" 2>/dev/null; then
      local status=0
      wait "${PID[$name]}" 2>/dev/null || status=$?
      unset "PID[$name]"
      die "$name exited unexpectedly (status $status)"
    fi
  done
}

# wait_nodes SECONDS DESCRIPTION JQ-FILTER [jq args...]: polls `troupe nodes --json` every
# 100 ms until the filter is true; fails after SECONDS.
wait_nodes() {
  local limit=$1 what=$2 filter=$3
  shift 3
  local deadline=$(($(now_ms) + limit * 1000))
  while true; do
    check_daemons
    if troupe --json nodes 2>/dev/null | jq -e "$@" "$filter" >/dev/null 2>&1; then
      return 0
    fi
    if (($(now_ms) > deadline)); then
      printf '\n[demo] the nodes as the head sees them now:\n' >&2
      troupe nodes >&2 || true
      die "timed out after $limit s waiting until $what"
    fi
    sleep 0.1
  done
}

# node_field NAME FIELD: one field of one node, from `troupe nodes --json`.
node_field() {
  troupe --json nodes | jq -r --arg n "$1" --arg f "$2" 'map(select(.name == $n))[0][$f]'
}

# start_daemon NAME ARGS...: starts trouped with its own data directory and log file.
start_daemon() {
  local name=$1
  shift
  mkdir -p "$TMP/$name"
  "$BIN/trouped" "$@" --data-dir "$TMP/$name" --name "$name" --log-file "$TMP/$name.log" \
    </dev/null >"$TMP/$name.out" 2>&1 &
  PID[$name]=$!
  local shown="$*"
  [[ -z "${TOKEN:-}" ]] || shown=${shown//"$TOKEN"/TOKEN}  # the token is a secret
  say "started $name (pid ${PID[$name]}): trouped $shown"
}

##############################################################################################

section "Set-up: packages and build"
bash tools/setup.sh
for exe in trouped troupe; do
  [[ -x "$BIN/$exe" ]] || die "$BIN/$exe was not built"
done
command -v jq >/dev/null || die "jq is missing (package jq)"

TMP=$(mktemp -d /tmp/troupe-demo.XXXXXX)

section "Starting a local cluster: a head and two nodes on 127.0.0.1"
say "data directories and logs in $TMP"
# Port 0: the system picks a free port; the head writes the address it bound to a file.
# The head runs no work itself (--no-worker): the two nodes do.
start_daemon head --head --no-worker --listen tcp://127.0.0.1:0 --http-listen 127.0.0.1:0
deadline=$(($(now_ms) + 15000))
until [[ -s "$TMP/head/head_endpoint" ]]; do
  check_daemons
  (($(now_ms) < deadline)) || die "the head wrote no $TMP/head/head_endpoint within 15 s"
  sleep 0.05
done
HEAD=$(<"$TMP/head/head_endpoint")
say "the head listens on $HEAD (CURVE: it admits only keys it knows); it printed:"
sed 's/^/      /' "$TMP/head.out"
# Each node enrolls its own key with the head's join token once; later starts need no token.
TOKEN=$(<"$TMP/head/join-token")
start_daemon node-1 --join "$HEAD" --token "$TOKEN" --label zone=a --cpus 2 --memory-mb 2048
start_daemon node-2 --join "$HEAD" --token "$TOKEN" --label zone=b --cpus 2 --memory-mb 2048
t0=$(now_ms)
wait_nodes 15 "2 nodes are alive" '[.[] | select(.state == "alive")] | length == 2'
say "both nodes alive after $(($(now_ms) - t0)) ms"
show status
echo
show nodes

section "Draining node-2 (it would finish its work and take no new work), then undraining it"
show drain node-2
show nodes
echo
show undrain node-2
show nodes

section "Jobs: submit, follow, retry, cancel, a gang across both nodes"
# wait_job SECONDS ID STATE: polls `troupe job ID --json` until the job is in STATE.
wait_job() {
  local limit=$1 id=$2 want=$3 deadline state
  deadline=$(($(now_ms) + limit * 1000))
  while true; do
    check_daemons
    state=$(troupe --json job "$id" | jq -r .state)
    [[ "$state" == "$want" ]] && return 0
    (($(now_ms) < deadline)) || die "job $id is $state, not $want, after $limit s"
    sleep 0.1
  done
}
say "\$ troupe submit docs/examples/hello.yaml --wait"
troupe submit docs/examples/hello.yaml --wait 2>&1 | sed 's/^/      /'
hello=$(troupe --json jobs | jq -r 'map(select(.name == "hello"))[0].id')
show logs "$hello"
echo
say "a job whose first attempt fails (exit 3) and whose retry succeeds:"
say "\$ troupe submit docs/examples/retry.yaml --wait"
troupe submit docs/examples/retry.yaml --wait 2>&1 | sed 's/^/      /'
flaky=$(troupe --json jobs | jq -r 'map(select(.name == "flaky"))[0].id')
show job "$flaky"
echo
say "a long job, cancelled while it runs (its process group gets SIGTERM, then SIGKILL):"
printf 'name: long-sleep\nkind: command\nargv: ["sleep", "600"]\n' >"$TMP/long.yaml"
long=$(troupe submit "$TMP/long.yaml")
wait_job 15 "$long" RUNNING
show cancel "$long"
wait_job 15 "$long" CANCELLED
echo
/usr/bin/python3 -c 'import torch' 2>/dev/null || die "python3-torch is missing (package python3-torch)"
say "a gang of 2 tasks, 2 CPUs each, so one on each node: PyTorch's gloo all-reduce, unchanged"
say "(docs/examples/allreduce.py uses init_process_group(\"gloo\", init_method=\"env://\"))"
sed -e "s|^workdir: .*|workdir: $PWD/docs/examples|" -e 's|cpus: 1,|cpus: 2,|' \
  docs/examples/gang-ddp.yaml >"$TMP/gang-ddp.yaml"
gang=$(troupe submit "$TMP/gang-ddp.yaml")
say "\$ troupe logs -f $gang   (task 0; --task 1 for the other)"
troupe logs -f "$gang" | sed 's/^/      /'
wait_job 60 "$gang" SUCCEEDED
nodes=$(troupe --json job "$gang" | jq -r '[.attempts[].node] | unique | join(" and ")')
say "the gang ran on $nodes"
echo
show jobs

section "Training: card transactions uploaded, a 2-rank train job across both nodes, its model registered"
say "the data: 20,000 card transactions with their spending category, made by"
say "tools/demo_data/transactions.py (docs/training-data.md): 64 feature columns and a label"
/usr/bin/python3 tools/demo_data/transactions.py --rows 20000 --out "$TMP/transactions.csv" ||
  die "generating the transactions failed"
show data put "$TMP/transactions.csv" --name txn-train
show data ls
say "each rank is a troupe-rank process started by its node; it fetches the dataset through its"
say "node's artifact cache, the ranks meet through the head's rendezvous and average gradients"
say "over Gloo in buckets during backward; rank 0 checkpoints into the artifact store and"
say "registers the model (docs/training.md)"
sed -e 's|cpus: 1}|cpus: 2}|' -e 's|every_steps: 500|every_steps: 50|' \
  docs/examples/train-mlp.yaml >"$TMP/train.yaml"
say "\$ troupe submit --wait train.yaml   (docs/examples/train-mlp.yaml)"
troupe submit --wait "$TMP/train.yaml" | sed 's/^/      /'
((PIPESTATUS[0] == 0)) || die "the train job did not succeed"
train=$(troupe --json jobs | jq -r 'map(select(.name == "txn-category"))[0].id')
nodes=$(troupe --json job "$train" | jq -r '[.attempts[].node] | unique | join(" and ")')
say "its ranks ran on $nodes; what they reported:"
show metrics "$train"
echo
show models
show model txn-category
show model export txn-category@1 "$TMP/txn-category.pt"
say "the exported TorchScript file loads in PyTorch and predicts:"
/usr/bin/python3 - "$TMP/txn-category.pt" <<'PY' || die "PyTorch could not use the exported model"
import json, sys, torch
extra = {"troupe/model.json": ""}
model = torch.jit.load(sys.argv[1], _extra_files=extra)
meta = json.loads(extra["troupe/model.json"])
logits = model(torch.zeros(1, len(meta["features"])))
print("      %d features in, classes %s; an all-zero row is %s" %
      (len(meta["features"]), ", ".join(meta["classes"][:3]) + ", ...",
       meta["classes"][int(logits.argmax())]))
PY

echo
say "a node killed under a training job: the job resumes from its last checkpoint"
sed -e 's|cpus: 1}|cpus: 2}|' -e 's|every_steps: 500|every_steps: 50|' -e 's|^epochs: .*|epochs: 20|' \
  -e 's|^early_stopping: .*|retries: {max: 2, backoff_s: 1}|' \
  docs/examples/train-mlp.yaml >"$TMP/train-long.yaml"
long_train=$(troupe submit "$TMP/train-long.yaml") || die "submitting the train job failed"
say "submitted $long_train (20 epochs, a checkpoint every 50 steps); waiting for step 150"
deadline=$(($(now_ms) + 120000))
until troupe --json metrics "$long_train" | jq -se 'any(.[]; .kind == "step" and .step >= 150)' \
  >/dev/null; do
  check_daemons
  (($(now_ms) < deadline)) || die "the train job $long_train reached no step 150 in 120 s"
  sleep 0.2
done
victim=$(troupe --json job "$long_train" | jq -r '.attempts[] | select(.task == 1) | .node')
say "kill -9 $victim (pid ${PID[$victim]}), the node of rank 1; its rank dies with it"
kill -9 "${PID[$victim]}"
wait "${PID[$victim]}" 2>/dev/null || true
unset "PID[$victim]"
wait_nodes 10 "$victim is dead" "any(.[]; .name == \"$victim\" and .state == \"dead\")"
show job "$long_train"
say "the job waits for room for both ranks; starting $victim again"
zone=a
[[ $victim == node-2 ]] && zone=b
start_daemon "$victim" --join "$HEAD" --label "zone=$zone" --cpus 2 --memory-mb 2048
wait_job 180 "$long_train" SUCCEEDED
say "rank 0 of the new round resumed where the last checkpoint left off:"
troupe logs "$long_train" --task 0 | grep -E "resumes from|registered" | sed 's/^/      /'
show models

section "Serving: the trained model answers over HTTP (KServe v2 and plain JSON)"
HTTP=$(cat "$TMP/head/http_endpoint")
show model promote txn-category@1 --stage production
token=$(troupe --json token create --name demo-app --role predict | jq -r .token)
say "a bearer token for an application (role predict) was made; it is printed once, never logged"
cat >"$TMP/serve.yaml" <<YAML
name: txn-category
kind: serve
model: txn-category@production
replicas: 2
resources: {cpus: 1}
batching: {max_batch: 64, max_delay_ms: 2}
YAML
say "\$ troupe submit serve.yaml   (2 replicas of txn-category@production)"
serve=$(troupe submit "$TMP/serve.yaml") || die "submitting the serve job failed"
deadline=$(($(now_ms) + 120000))
until [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://$HTTP/v2/models/txn-category/ready") == 200 ]]; do
  check_daemons
  (($(now_ms) < deadline)) || die "the serve job $serve was not ready in 120 s"
  sleep 0.2
done
show services
row=$(/usr/bin/python3 - "$TMP/transactions.csv" <<'PY'
import csv, json, sys
with open(sys.argv[1]) as f:
    reader = csv.DictReader(f)
    row = next(reader)
print(json.dumps([float(v) for k, v in row.items() if k != "category"]))
PY
)
say "\$ curl -H 'Authorization: Bearer …' -d '{\"features\": [...64 values]}' http://$HTTP/v1/models/txn-category/predict"
curl -s -H "Authorization: Bearer $token" -d "{\"features\": $row}" \
  "http://$HTTP/v1/models/txn-category/predict" | jq -c '{predictions, model_version}' | sed 's/^/      /'
say "the same row as a KServe v2 tensor:"
curl -s -H "Authorization: Bearer $token" \
  -d "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 64], \"datatype\": \"FP32\", \"data\": $row}]}" \
  "http://$HTTP/v2/models/txn-category/infer" | jq -c '{model_version, outputs: [.outputs[] | {name, shape}]}' |
  sed 's/^/      /'
say "without a token: $(curl -s -o /dev/null -w '%{http_code}' -d "{\"features\": $row}" \
  "http://$HTTP/v1/models/txn-category/predict") (unauthorized)"

say "promoting txn-category@2 to production while a client sends requests without pause"
: >"$TMP/load.out"
touch "$TMP/load.on"
(while [[ -e "$TMP/load.on" ]]; do
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" -d "{\"features\": $row}" \
    "http://$HTTP/v1/models/txn-category/predict" >>"$TMP/load.out"
done) &
load_pid=$!
sleep 1
show model promote txn-category@2 --stage production
deadline=$(($(now_ms) + 30000))
until curl -s -H "Authorization: Bearer $token" -d "{\"features\": $row}" \
  "http://$HTTP/v1/models/txn-category/predict" | jq -e '.model_version == 2' >/dev/null; do
  (($(now_ms) < deadline)) || die "the service did not switch to version 2 in 30 s"
  sleep 0.2
done
sleep 1
rm -f "$TMP/load.on"
wait "$load_pid" || true
failed=$(grep -vc '^200$' "$TMP/load.out" || true)
say "$(wc -l <"$TMP/load.out") requests during the promotion, $failed failed; the service now answers with version 2"
((failed == 0)) || die "$failed requests failed during the promotion"
say "\$ curl http://$HTTP/metrics   (Prometheus text; some of its lines)"
curl -s "http://$HTTP/metrics" | grep -E '^troupe_(inference_requests_total|cluster_)' |
  sed 's/^/      /'
if command -v promtool >/dev/null; then
  curl -s "http://$HTTP/metrics" | promtool check metrics >/dev/null 2>&1 &&
    say "promtool check metrics: ok" || die "promtool refused the head's /metrics"
fi
show cancel "$serve"

say "batch scoring: the transactions, with an id and without their label, scored by a predict job"
/usr/bin/python3 - "$TMP/transactions.csv" "$TMP/txns.csv" <<'PY' || die "making txns.csv failed"
import csv, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w", newline="") as out:
    reader = csv.DictReader(f)
    features = [k for k in reader.fieldnames if k != "category"]
    writer = csv.writer(out)
    writer.writerow(["id"] + features)
    for i, row in enumerate(reader):
        writer.writerow(["t%05d" % i] + [row[k] for k in features])
PY
troupe data put "$TMP/txns.csv" --name txns >/dev/null || die "putting txns.csv failed"
say "\$ troupe submit --wait docs/examples/predict.yaml   (2 tasks of txn-category@production)"
troupe submit --wait docs/examples/predict.yaml | sed 's/^/      /'
((PIPESTATUS[0] == 0)) || die "the predict job did not succeed"
show data get txn-scores "$TMP/txn-scores.csv"
scored=$(($(wc -l <"$TMP/txn-scores.csv") - 1))
say "$scored rows scored (of $(($(wc -l <"$TMP/txns.csv") - 1))); the first two:"
head -3 "$TMP/txn-scores.csv" | cut -c1-100 | sed 's/^/      /'
((scored == $(wc -l <"$TMP/txns.csv") - 1)) || die "the result has $scored rows"

section "Keys: every link is CURVE; the head admits only keys it knows, each with a role"
show keys ls
echo
show credentials create --role admin --out "$TMP/alice.credentials" --label alice
alice() { "$BIN/troupe" --head "$HEAD" --credentials "$TMP/alice.credentials" --timeout-ms 1000 "$@"; }
alice status >/dev/null || die "a new admin credential was refused"
say "alice's credential works; revoking it"
alice_key=$(troupe --json keys ls | jq -r 'map(select(.label == "alice"))[0].id')
show keys revoke "$alice_key"
status=0
alice status >/dev/null 2>&1 || status=$?
((status == 3)) || die "a revoked key still got an answer (exit status $status)"
say "with the revoked key, troupe gets no answer (exit status 3)"

section "Failure detection: freezing node-1 with SIGSTOP"
incarnation=$(node_field node-1 incarnation) || die "troupe nodes failed"
say "node-1 has incarnation $incarnation; kill -STOP ${PID[node-1]}"
kill -STOP "${PID[node-1]}"
t0=$(now_ms)
suspect_ms=""
deadline=$((t0 + 30000))
while true; do
  check_daemons
  state=$(node_field node-1 state 2>/dev/null || echo unknown)
  if [[ "$state" == suspect && -z "$suspect_ms" ]]; then
    suspect_ms=$(($(now_ms) - t0))
    say "node-1 is suspect after $suspect_ms ms"
  fi
  [[ "$state" == dead ]] && break
  (($(now_ms) < deadline)) || die "node-1 was not declared dead within 30 s (state: $state)"
  sleep 0.1
done
say "node-1 declared dead $(($(now_ms) - t0)) ms after it froze (polled every 100 ms)"
show nodes

section "Recovery: thawing node-1 with SIGCONT"
say "kill -CONT ${PID[node-1]}"
kill -CONT "${PID[node-1]}"
t0=$(now_ms)
# shellcheck disable=SC2016  # $old is jq's variable
wait_nodes 15 "node-1 is alive again with a new incarnation" \
  'any(.[]; .name == "node-1" and .state == "alive" and .incarnation > $old)' \
  --argjson old "$incarnation"
elapsed=$(($(now_ms) - t0))
new_incarnation=$(node_field node-1 incarnation) || die "troupe nodes failed"
say "node-1 alive again after $elapsed ms, re-registered: incarnation $incarnation -> $new_incarnation"
show nodes

section "Leaving: SIGTERM to node-2"
say "kill -TERM ${PID[node-2]}"
status=0
stop_daemon node-2 10 || status=$?
((status == 0)) || die "node-2 exited with status $status after SIGTERM (expected 0)"
say "node-2 exited with status 0"
wait_nodes 5 "node-2 is shown as left" 'any(.[]; .name == "node-2" and .state == "left")'
show nodes

section "Stopping the cluster"
for name in node-1 head; do
  pid=${PID[$name]}
  status=0
  stop_daemon "$name" 10 || status=$?
  ((status == 0)) || die "$name (pid $pid) exited with status $status after SIGTERM (expected 0)"
  say "$name (pid $pid) stopped cleanly"
done
say "all daemons stopped; removing $TMP"
printf '\n[demo] done\n'
