#!/usr/bin/env bash
# Makes the TEST-ONLY certificates of config/examples/secure.yaml: a CA, a server certificate for localhost and
# 127.0.0.1, and a client certificate for alice. Anyone can read these keys: never use them for real traffic.
#   config/examples/tls/make-certs.sh [DIR]      (default: this script's directory; needs openssl and keytool)
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")" && pwd)}
cd "$dir"
days=3650
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days $days -subj "/O=Omnibus example/CN=Omnibus example CA (test only)" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

sign() { # name subject extensions
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days $days \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server "/O=Omnibus example/CN=localhost" \
  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature"
sign alice "/O=Omnibus example/CN=alice" \
  "subjectAltName=email:alice@example.org
extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
rm -f ca.srl

# Java clients (Qpid JMS, kafka-clients, Paho) read PKCS#12: the CA as a trust store, alice's key as a key store
rm -f ca.p12 alice.p12
keytool -importcert -noprompt -storetype PKCS12 -keystore ca.p12 -storepass changeit -alias ca -file ca.pem >/dev/null
openssl pkcs12 -export -in alice.pem -inkey alice-key.pem -certfile ca.pem -name alice -passout pass:changeit -out alice.p12
echo "made ca.pem, server.pem, alice.pem (and their -key.pem), ca.p12 and alice.p12 (password changeit) in $dir"
