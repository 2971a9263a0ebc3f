#!/bin/sh
# Install the PostgreSQL server for the store's tests when initdb and pg_ctl are missing.
# The tests start their own throwaway server (tests/store_backends.py); this only installs it.
set -eu
for dir in $(command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)") /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        exit 0
    fi
done
if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL's server (initdb, pg_ctl) is missing: install the postgresql package" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
