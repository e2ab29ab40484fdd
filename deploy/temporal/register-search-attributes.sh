#!/bin/sh
# One-shot (temporalio/admin-tools): register the custom search attributes given
# as arguments, Name=Type each (the list is in docker-compose.yml, checked
# against complaints/search_attributes.py by tests/test_deployment.py). Those
# already registered are left alone, so it is safe to run again.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}"

# The namespace job has just created the namespace; let every frontend see it.
attempt=0
until temporal operator search-attribute list >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
        echo "namespace $TEMPORAL_NAMESPACE is not ready on $TEMPORAL_ADDRESS" >&2
        exit 1
    fi
    sleep 2
done

existing=$(temporal operator search-attribute list)
for pair in "$@"; do
    name=${pair%%=*}
    type=${pair#*=}
    registered=$(printf '%s\n' "$existing" | awk -v name="$name" '$1 == name { print $2 }')
    if [ "$registered" = "$type" ]; then
        echo "search attribute $name ($type) is registered"
    elif [ -n "$registered" ]; then
        echo "search attribute $name is registered as $registered, not $type" >&2
        exit 1
    else
        temporal operator search-attribute create --name "$name" --type "$type"
    fi
done
