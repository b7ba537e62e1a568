#!/usr/bin/env bash
# Runs one command against every gateway pod in turn, with GATEWAY_URL pointing at that pod
# through a port-forward. The emergency admin API changes the process it reaches; through the
# Service a curl would reach one random replica.
#
#   export GATEWAY_ADMIN_TOKEN=...   NS=llm-serving (default)
#   runbooks/bin/each-gateway-pod.sh 'curl -sS -H "Authorization: Bearer $GATEWAY_ADMIN_TOKEN" "$GATEWAY_URL/admin/controls"'
set -euo pipefail

ns="${NS:-llm-serving}"
selector="${SELECTOR:-app.kubernetes.io/name=triton-gateway}"
local_port="${LOCAL_PORT:-18080}"

if [ "$#" -ne 1 ]; then
  echo "usage: $0 '<command that uses \$GATEWAY_URL>'" >&2
  exit 2
fi

pods=$(kubectl -n "$ns" get pods -l "$selector" --field-selector=status.phase=Running -o name)
if [ -z "$pods" ]; then
  echo "no running pod matches $selector in namespace $ns" >&2
  exit 1
fi

status=0
for pod in $pods; do
  kubectl -n "$ns" port-forward "$pod" "$local_port:8080" >/dev/null 2>&1 &
  forward=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$local_port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "== $pod"
  GATEWAY_URL="http://127.0.0.1:$local_port" bash -c "$1" || status=$?
  echo
  kill "$forward" 2>/dev/null || true
  wait "$forward" 2>/dev/null || true
done
exit "$status"
