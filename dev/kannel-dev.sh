#!/usr/bin/env bash
# A local Kannel with its fake SMS centre, for development against `npm run dev`:
#   dev/kannel-dev.sh            (Ctrl-C stops it; messages the "SMSC" receives are printed)
# Needs the Debian packages kannel and kannel-extras (apt-get install -y kannel kannel-extras).
# Ports (loopback only): admin 13000, smsbox 13001, fake SMSC 13002, sendsms 13013, the
# phones' fake SMSC 13003; override with KANNEL_ADMIN_PORT, KANNEL_SMSBOX_PORT, KANNEL_SMSC_PORT,
# KANNEL_SENDSMS_PORT, KANNEL_PHONES_PORT. What phones send goes to the service at SERVICE_URL
# (default http://127.0.0.1:8080): type `<from> <to> text <message>` on this script's stdin,
# e.g. `32470123456 eBox text STOP`.
set -euo pipefail

ADMIN_PORT=${KANNEL_ADMIN_PORT:-13000}
SMSBOX_PORT=${KANNEL_SMSBOX_PORT:-13001}
SMSC_PORT=${KANNEL_SMSC_PORT:-13002}
SENDSMS_PORT=${KANNEL_SENDSMS_PORT:-13013}
PHONES_PORT=${KANNEL_PHONES_PORT:-13003}
SERVICE_URL=${SERVICE_URL:-http://127.0.0.1:8080}
DLR_SECRET=${KANNEL_DLR_SECRET:-dev-dlr-secret-0123456789}
# the sms-service token (docs/kannel.md): HMAC-SHA256(KANNEL_DLR_SECRET, "kannel-inbound"), 128 bits, base64url
INBOUND_TOKEN=$(printf kannel-inbound | openssl dgst -sha256 -hmac "$DLR_SECRET" -binary | head -c 16 | basenc --base64url | tr -d =)
MAX_MESSAGES=${KANNEL_MAX_MESSAGES:-3}
USERNAME=notify
PASSWORD=${KANNEL_PASSWORD:-dev-password}
FAKESMSC=/usr/lib/kannel/test/fakesmsc

BEARERBOX=$(command -v bearerbox || echo /usr/sbin/bearerbox)
SMSBOX=$(command -v smsbox || echo /usr/sbin/smsbox)
for b in "$BEARERBOX" "$SMSBOX" "$FAKESMSC"; do
  [ -x "$b" ] || { echo "missing $b: apt-get install -y kannel kannel-extras" >&2; exit 1; }
done

DIR=$(mktemp -d)
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

cat > "$DIR/kannel.conf" <<CONF
group = core
admin-port = $ADMIN_PORT
admin-interface = 127.0.0.1
admin-password = dev-admin
status-password = dev-admin
admin-allow-ip = 127.0.0.1
smsbox-port = $SMSBOX_PORT
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
dlr-storage = internal
log-level = 1

group = smsc
smsc = fake
smsc-id = fake
port = $SMSC_PORT
connect-allow-ip = 127.0.0.1

group = smsc
smsc = fake
smsc-id = phones
allowed-smsc-id = phones
port = $PHONES_PORT
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $SMSBOX_PORT
sendsms-port = $SENDSMS_PORT
sendsms-interface = 127.0.0.1
log-level = 1

group = sendsms-user
username = $USERNAME
password = $PASSWORD
max-messages = $MAX_MESSAGES
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "$SERVICE_URL/v1/callbacks/kannel/inbound?token=$INBOUND_TOKEN&from=%p&to=%P&text=%b&coding=%c&id=%I&at=%T&smsc=%i"
max-messages = 0
omit-empty = true
CONF

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open" >&2
  return 1
}

"$BEARERBOX" "$DIR/kannel.conf" >"$DIR/bearerbox.log" 2>&1 &
pids+=($!)
wait_port "$SMSBOX_PORT"
wait_port "$SMSC_PORT"
wait_port "$PHONES_PORT"
"$SMSBOX" "$DIR/kannel.conf" >"$DIR/smsbox.log" 2>&1 &
pids+=($!)
"$FAKESMSC" -H 127.0.0.1 -r "$SMSC_PORT" -m 0 "1 2 text x" 2>&1 | grep --line-buffered 'Got message' &
pids+=($!)
# the phones: lines typed on this script's stdin (a background job's stdin is /dev/null unless given)
exec 3<&0
"$FAKESMSC" -H 127.0.0.1 -r "$PHONES_PORT" <&3 2>&1 | grep --line-buffered 'sent message' &
pids+=($!)
wait_port "$SENDSMS_PORT"

cat <<INFO
Kannel is running (status: http://127.0.0.1:$ADMIN_PORT/status.txt?password=dev-admin). Start the service with:
  NOTIFY_SMS_PROVIDER=kannel KANNEL_SENDSMS_URL=http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms \\
  KANNEL_USERNAME=$USERNAME KANNEL_PASSWORD=$PASSWORD KANNEL_DLR_SECRET=$DLR_SECRET \\
  NOTIFY_SMS_MAX_PARTS=$MAX_MESSAGES npm run dev
Messages received by the fake SMSC are printed below. A phone answers when you type a line
  <from> <to> text <message>        e.g.  32470123456 eBox text STOP
(Kannel calls $SERVICE_URL/v1/callbacks/kannel/inbound with it.)
INFO
wait
