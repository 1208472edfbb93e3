# Sourced by .ci/run as root: install and start what the integration tests use.
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
export QDFRAME_CHROMIUM=/usr/bin/chromium
