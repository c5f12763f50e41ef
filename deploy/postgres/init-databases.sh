#!/bin/bash
# Creates one database per Uwagi service. The official postgres image runs
# this once, when the data volume is first initialised (mounted into
# /docker-entrypoint-initdb.d). Each service owns its database alone; none
# reads another's tables.
set -euo pipefail

owner="${POSTGRES_USER:-postgres}"
for service in ${UWAGI_SERVICES:-intake review documents notify}; do
    db="uwagi_${service}"
    echo "init-databases: creating database ${db} owned by ${owner}"
    psql -v ON_ERROR_STOP=1 --username "${owner}" --dbname "${POSTGRES_DB:-postgres}" \
        -v db="${db}" -v owner="${owner}" <<'EOSQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
EOSQL
done
