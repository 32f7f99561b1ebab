#!/usr/bin/env bash
# Install (Debian package) and start a PostgreSQL server for the registry tests, create a test
# role and database, and print the SQLAlchemy URL. Idempotent; needs root or sudo.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $2}')
if [ -z "$version" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  cluster=main
  $SUDO pg_createcluster "$version" "$cluster" >&2
fi
$SUDO pg_ctlcluster "$version" "$cluster" start >&2 || true
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $3}')
as_postgres() { if [ "$(id -u)" = "0" ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
for _ in $(seq 1 30); do
  if as_postgres "psql -p $port -tAc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 1
done
as_postgres "psql -p $port -tAc \"select 1 from pg_roles where rolname='immunoprecise'\"" | grep -q 1 \
  || as_postgres "psql -p $port -c \"create role immunoprecise login password 'immunoprecise' createdb\"" >&2
as_postgres "psql -p $port -tAc \"select 1 from pg_database where datname='immunoprecise_test'\"" | grep -q 1 \
  || as_postgres "createdb -p $port -O immunoprecise immunoprecise_test" >&2
echo "postgresql+psycopg://immunoprecise:immunoprecise@localhost:$port/immunoprecise_test"
