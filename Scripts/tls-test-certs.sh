#!/usr/bin/env bash
# Makes a throwaway CA and certificates for TLS tests and benchmarks in DIR (default: a new temporary directory,
# printed on stdout). Every key is generated here, in the run that uses it: nothing secret is ever committed.
#
#     dir=$(bash Scripts/tls-test-certs.sh)       # or: bash Scripts/tls-test-certs.sh /tmp/certs
#
# DIR then holds (EC P-256 keys, PEM):
#   ca.pem                         the test CA (trust it with curl --cacert, redis-cli --cacert, s_client -CAfile)
#   server.pem, server.key         CN=localhost, SAN DNS:localhost, IP:127.0.0.1, signed by the CA
#   other.pem, other.key           CN=other.test, SAN DNS:other.test (the SNI tests' second identity), by the CA
#   client.pem, client.key         a client certificate signed by the CA
#   expired-client.pem/.key        a client certificate by the CA that expired in 2021
#   untrusted-client.pem/.key      a client certificate signed by a different CA nobody trusts
set -euo pipefail
dir=${1:-$(mktemp -d -t reactor-tls.XXXXXX)}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# The CA, and a second one nobody trusts.
for ca in ca rogue-ca; do
    key "$ca.key"
    openssl req -x509 -new -key "$ca.key" -sha256 -days 30 -subj "/CN=swift-reactor test $ca" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$ca.pem" 2>/dev/null
done

# issue NAME SUBJECT EXTENSIONS [CA]
issue() {
    local name=$1 subject=$2 extensions=$3 ca=${4:-ca}
    key "$name.key"
    openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
    printf '%b\n' "$extensions" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -sha256 -days 30 \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}
issue server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
issue other "/CN=other.test" "subjectAltName=DNS:other.test\nextendedKeyUsage=serverAuth"
issue client "/CN=swift-reactor test client" "extendedKeyUsage=clientAuth"
issue untrusted-client "/CN=untrusted client" "extendedKeyUsage=clientAuth" rogue-ca

# An expired client certificate: `openssl ca` is the one command that takes explicit dates.
key expired-client.key
openssl req -new -key expired-client.key -subj "/CN=expired client" -out expired-client.csr 2>/dev/null
mkdir -p ca-db
: >ca-db/index.txt
cat >ca-db/ca.cnf <<CONF
[ca]
default_ca = test
[test]
database = $dir/ca-db/index.txt
new_certs_dir = $dir/ca-db
serial = $dir/ca-db/serial
default_md = sha256
policy = anything
copy_extensions = none
[anything]
commonName = supplied
CONF
echo 01 >ca-db/serial
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired-client.csr \
    -startdate 20200101000000Z -enddate 20210101000000Z -out expired-client.pem -notext >/dev/null 2>&1
rm -rf ca-db expired-client.csr ./*.srl
echo "$dir"
