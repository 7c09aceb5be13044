#!/bin/sh
# Run once by the MariaDB image's entrypoint when the mysql volume is first
# initialised (mounted into /docker-entrypoint-initdb.d by docker-compose.yml):
# the read-only account of mysqld-exporter. The application users are created
# by the `setup` service (caisse-launcher provision).
set -eu
: "${MYSQLD_EXPORTER_PASSWORD:?MYSQLD_EXPORTER_PASSWORD absent}"
mariadb -uroot -p"${MARIADB_ROOT_PASSWORD}" <<SQL
CREATE USER IF NOT EXISTS 'exporter'@'%'
  IDENTIFIED BY '${MYSQLD_EXPORTER_PASSWORD}'
  WITH MAX_USER_CONNECTIONS 3;
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'exporter'@'%';
GRANT SELECT ON performance_schema.* TO 'exporter'@'%';
SQL
