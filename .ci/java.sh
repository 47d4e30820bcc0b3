#!/usr/bin/env bash
# A Java runtime for the Spark tests (PySpark 4 runs on Java 17 or later): Debian's
# default-jre-headless, installed when no such java is on PATH.
#
#   bash .ci/java.sh        # installs if needed; prints the java version to stderr
set -euo pipefail

log() { echo "java.sh: $*" >&2; }

major() {  # the major version of the java on PATH, 0 when there is none
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

if [ "$(major)" -lt 17 ]; then
  log "installing the Debian package default-jre-headless"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq default-jre-headless >&2
fi
[ "$(major)" -ge 17 ] || { log "no Java 17 or later after installing; Spark cannot start"; exit 1; }
log "$(java -version 2>&1 | head -n 1)"
