#!/bin/sh
# One-shot (temporalio/admin-tools): wait until the frontend answers, then create
# the namespace unless it exists. TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE are
# read by the `temporal` CLI itself.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}"

attempt=0
until temporal operator cluster health >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 60 ]; then
        echo "Temporal at $TEMPORAL_ADDRESS is not serving after 2 minutes" >&2
        exit 1
    fi
    sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $TEMPORAL_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
        --retention "${NAMESPACE_RETENTION:-30d}" \
        --description "Complaint handling"
fi
