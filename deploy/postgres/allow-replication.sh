#!/bin/sh
# Runs once, when the postgres image initializes its data directory (docker-entrypoint-initdb.d): the image's
# pg_hba.conf lets other containers connect to databases but not open replication connections, which the relay's
# default feed needs. The server restarts after the init scripts, so the line takes effect before the relay connects.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
