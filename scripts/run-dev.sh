#!/usr/bin/env bash
# Installs, builds and starts motcuad with the embedded default: RocksDB in
# var/data, the built-in procedures, a development PKI in var/pki.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ADDR="${MOTCUA_LISTEN:-127.0.0.1:50051}"
cat <<MSG

motcua development server on $ADDR (mutual TLS, dev PKI in var/pki).
In another terminal, talk to it with the CLI as one of the dev identities
(portal, receiver, head, clerk, auditor, admin, ...):

  build/adapters/motcua --as portal submit docs/examples/copy_request.json
  build/adapters/motcua --as receiver worklist
  build/adapters/motcua --as receiver approve <TASK_ID>
  build/adapters/motcua --as auditor show <DOSSIER_CODE>
  build/adapters/motcua --as admin backup status

Backups: hourly into var/backup (verified each time); offline copies with
"backup export-offline DIR", encrypted with var/keys/offline.key.

Any gRPC client works too: CA var/pki/ca.crt, client certificates in
var/pki/clients/. Health and reflection are served. Ctrl-C stops the server.

MSG
exec build/adapters/motcuad --dev --data-dir var/data --pki-dir var/pki --listen "$ADDR"
