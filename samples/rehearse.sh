#!/usr/bin/env bash
# A whole rehearsal on a local sandbox: start it, run the sample migration's plan, then the
# report and the control totals an accountant signs off, and stop the sandbox.
#
#   samples/rehearse.sh                 # what `make demo` runs
#   PROFILE=live samples/rehearse.sh    # against the live API's quirks
#   OUT=/tmp/rehearsal samples/rehearse.sh
set -uo pipefail
cd "$(dirname "$0")/.."
importer=${IMPORTER:-importer}
profile=${PROFILE:-standard}
out=${OUT:-build/demo}

rm -rf "$out" && mkdir -p "$out"  # a fresh sandbox each time: last time's results would refuse the rerun
"$importer" sandbox --port 0 --profile "$profile" >"$out/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null; wait "$sandbox" 2>/dev/null' EXIT
url=
for _ in $(seq 100); do  # its first line says where it listens
  url=$(sed -n 's/^Sandbox listening on //p' "$out/sandbox.log")
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then cat "$out/sandbox.log" >&2; exit 2; fi
connection=(--base-url "$url" --token sandbox-token)

status=0
"$importer" plan samples/migration.toml "${connection[@]}" --results-dir "$out" || status=$?
echo
"$importer" report "$out" --html "$out/report.html" || status=$((status ? status : $?))
echo
for step in "samples/customers.csv customer" "samples/invoices.csv invoice"; do
  set -- $step
  name=$(basename "$1" .csv)
  "$importer" reconcile "$1" --entity "$2" "${connection[@]}" --csv "$out/$name.totals.csv" \
    || status=$((status ? status : $?))
done
exit "$status"
