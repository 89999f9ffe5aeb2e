#!/usr/bin/env bash
# Checks the channel fixtures with tools independent of civic-router:
#  1. the WhatsApp webhook fixtures against Meta's OpenAPI schema (jsonschema);
#  2. the committed signature vectors are what Python's hmac and twilio's RequestValidator
#     compute today (make_vectors.py re-run and diffed).
# Needs Python 3 and PyPI (a venv is made under $CARGO_TARGET_DIR or target/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fx="$root/core/tests/fixtures/channels"
spec="${WHATSAPP_SPEC:-$root/../shared/specs/whatsapp-business-api-v23.yaml}"
[ -f "$spec" ] || spec=/work/shared/specs/whatsapp-business-api-v23.yaml
venv="${CARGO_TARGET_DIR:-$root/target}/fixture-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "twilio==9.13.0" "jsonschema==4.26.0" "pyyaml==6.0.3"
fi
"$venv/bin/python" "$fx/tools/check_whatsapp_schema.py" "$spec" "$fx/whatsapp"
tmp="$(mktemp)"
(cd "$fx" && "$venv/bin/python" tools/make_vectors.py . > "$tmp")
if diff -q "$tmp" "$fx/signatures.json" >/dev/null; then
  echo "signature vectors: committed file matches a fresh run of make_vectors.py"
else
  diff "$tmp" "$fx/signatures.json" | head -20
  echo "signature vectors differ from a fresh run" >&2
  exit 1
fi
rm -f "$tmp"
