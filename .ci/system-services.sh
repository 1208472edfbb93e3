# Sourced by .ci/run as root: install and start what the integration tests use.
# Tests that need one of these skip with a clear reason when it is missing.
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium postgresql >/dev/null
export QDFRAME_CHROMIUM=/usr/bin/chromium

# PostgreSQL on 127.0.0.1 for the sharing server's PostgreSQL suite.
pg_version=$(ls /etc/postgresql | sort -n | tail -n 1)
pg_ctlcluster "$pg_version" main start || true
for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -q && break
    sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='qdframe'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE ROLE qdframe LOGIN PASSWORD 'qdframe'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='qdframe_test'\"" | grep -q 1 \
    || su postgres -c "createdb -O qdframe qdframe_test"
export QDFRAME_TEST_POSTGRES_URL=postgresql+psycopg://qdframe:qdframe@127.0.0.1:5432/qdframe_test
