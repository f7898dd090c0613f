#!/usr/bin/env bash
# Builds the Debian package motcua from the build directory (after
# scripts/setup.sh) and prints its path:
#   scripts/package.sh          -> build/package/motcua_<version>-1_amd64.deb
#   scripts/package.sh --test   the same, then, as root, on this machine:
#       install it with apt-get, give it a production configuration made
#       from a throwaway Department CA (whose key is deleted at once), start
#       the service (systemctl when systemd is PID 1, else runuser as user
#       motcua), check it serves over mutual TLS with the motcua CLI, stop it
#       (SIGTERM: exit 0 within 10 s), purge it (data, configuration and the
#       user are kept), install it again and purge it after deleting the
#       data deliberately (everything goes). Any failed check exits 1;
#       whatever happens, the machine is left as it was.
# --test refuses to run where motcua is or was installed (a package, a
# user, /etc/motcua or /var/lib/motcua): it would be deleted afterwards.
# MOTCUA_BUILD_DIR overrides build/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${MOTCUA_BUILD_DIR:-build}"

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }
TEST=0
case "${1:-}" in
  "") ;;
  --test) TEST=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

say() { echo "package.sh: $*"; }
die() { echo "package.sh: FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- build
[ -f "$BUILD_DIR/CMakeCache.txt" ] || die "no $BUILD_DIR/CMakeCache.txt: run scripts/setup.sh first"
scripts/install-packages.sh dpkg-dev  # dpkg-shlibdeps computes the Depends
T_BUILD=$(now)
mkdir -p "$BUILD_DIR/package"
if ! cmake --build "$BUILD_DIR" --target motcuad motcua -j"$(nproc)" >"$BUILD_DIR/package/build.log" 2>&1; then
  tail -40 "$BUILD_DIR/package/build.log" >&2
  die "cmake --build $BUILD_DIR --target motcuad motcua (log: $BUILD_DIR/package/build.log)"
fi
[ -f "$BUILD_DIR/CPackConfig.cmake" ] ||
  die "$BUILD_DIR/CPackConfig.cmake missing: is include(scripts/package/packaging.cmake) in CMakeLists.txt?"
rm -f "$BUILD_DIR"/package/motcua_*.deb
if ! (cd "$BUILD_DIR" && cpack --config CPackConfig.cmake) >"$BUILD_DIR/package/cpack.log" 2>&1; then
  cat "$BUILD_DIR/package/cpack.log" >&2
  die "cpack"
fi
debs=("$BUILD_DIR"/package/motcua_*_amd64.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || die "cpack made no single motcua_*_amd64.deb"
DEB=$(realpath "${debs[0]}")
say "built in $(since "$T_BUILD") s: $(dpkg-deb -f "$DEB" Package Version Architecture | tr '\n' ' ')"
say "Depends: $(dpkg-deb -f "$DEB" Depends)"
if [ "$TEST" -eq 0 ]; then
  echo "$DEB"
  exit 0
fi

# ------------------------------------------------------------------ test
[ "$(id -u)" -eq 0 ] || die "--test installs a package and creates a user: run it as root"
status=$(dpkg-query -W -f='${Status}' motcua 2>/dev/null || true)
case "$status" in ""|*not-installed) ;; *) die "package motcua is on this machine ($status)" ;; esac
getent passwd motcua >/dev/null && die "a user motcua exists here"
getent group motcua >/dev/null && die "a group motcua exists here"
for path in /etc/motcua /var/lib/motcua; do [ ! -e "$path" ] || die "$path exists here"; done
command -v openssl >/dev/null || die "openssl is missing (scripts/setup.sh installs it)"

CONFIG=/etc/motcua/motcuad.textproto
WORK=$(mktemp -d /tmp/motcua-package-test.XXXXXX)
chmod 0755 "$WORK"  # apt's _apt user reads the .deb from here
cp "$DEB" "$WORK/"
DEB_COPY="$WORK/$(basename "$DEB")"
MOTCUAD_PID=""
RUNUSER_PID=""
MACHINE_TOUCHED=0
if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  START_METHOD=systemctl
else
  START_METHOD=runuser
fi

cleanup() {
  local rc=$?
  set +e
  if [ -n "$MOTCUAD_PID" ] && kill -0 "$MOTCUAD_PID" 2>/dev/null; then kill -KILL "$MOTCUAD_PID"; fi
  if [ "$MACHINE_TOUCHED" -eq 1 ]; then
    [ "$START_METHOD" = systemctl ] && systemctl stop motcuad.service >/dev/null 2>&1
    case "$(dpkg-query -W -f='${Status}' motcua 2>/dev/null)" in
      ""|*not-installed) ;;
      *) DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq motcua >/dev/null 2>&1 ||
           dpkg --purge --force-all motcua >/dev/null 2>&1 ;;
    esac
    # Everything below was made by this test: the checks above refused to
    # start where any of it existed.
    rm -rf /etc/motcua /var/lib/motcua
    dpkg-statoverride --remove /etc/motcua >/dev/null 2>&1
    getent passwd motcua >/dev/null && userdel motcua
    getent group motcua >/dev/null && groupdel motcua
    [ "$START_METHOD" = systemctl ] && systemctl daemon-reload >/dev/null 2>&1
  fi
  rm -rf "$WORK"
  if [ "$rc" -ne 0 ]; then echo "package.sh: --test FAILED (machine cleaned up)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt_get() {  # log-name args...: apt-get, noninteractive, output kept in $WORK/log-name
  local log="$WORK/$1"
  shift
  if ! DEBIAN_FRONTEND=noninteractive apt-get "$@" >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get $*"
  fi
}
# PIDs of processes running the installed server.
installed_motcuad_pids() {
  local exe
  for exe in /proc/[0-9]*/exe; do
    [ "$(readlink "$exe" 2>/dev/null)" = /usr/bin/motcuad ] && basename "$(dirname "$exe")"
  done
  return 0
}
owner_mode() { stat -c '%U:%G %a' "$1"; }

T_TEST=$(now)
say "test: start method: $START_METHOD$([ "$START_METHOD" = runuser ] &&
  echo " (systemd is not PID 1 here: /usr/bin/motcuad runs as user motcua via runuser)")"

# --- 1. install: nothing starts without a configuration
MACHINE_TOUCHED=1
T=$(now)
apt_get install.log install -y "$DEB_COPY"
say "test: installed with apt-get in $(since "$T") s"
grep -q "not started: there is no $CONFIG" "$WORK/install.log" ||
  { cat "$WORK/install.log"; die "postinst did not say that motcuad waits for $CONFIG"; }
for f in /usr/bin/motcuad /usr/bin/motcua /lib/systemd/system/motcuad.service \
         /usr/share/motcua/motcuad.textproto.example /usr/share/motcua/proto/config.proto; do
  [ -f "$f" ] || die "$f not installed"
done
for f in /usr/share/doc/motcua/OPERATIONS.md /usr/share/doc/motcua/motcuad.textproto.example; do
  dpkg -L motcua | grep -qx "$f" || die "$f is not in the package"
done
[ -z "$(find /etc/motcua -mindepth 1)" ] || die "the package shipped files in /etc/motcua"
IFS=: read -r _ _ MOTCUA_UID _ _ home shell < <(getent passwd motcua) || die "no user motcua"
[ "$home" = /var/lib/motcua ] || die "user motcua has home $home"
[ "$shell" = /usr/sbin/nologin ] || die "user motcua has shell $shell"
[ "$MOTCUA_UID" -lt 1000 ] || die "user motcua is not a system user (uid $MOTCUA_UID)"
[ "$(owner_mode /etc/motcua)" = "root:motcua 750" ] || die "/etc/motcua is $(owner_mode /etc/motcua)"
[ "$(owner_mode /var/lib/motcua)" = "motcua:motcua 750" ] ||
  die "/var/lib/motcua is $(owner_mode /var/lib/motcua)"
[ -z "$(installed_motcuad_pids)" ] || die "motcuad runs although there is no $CONFIG"
if [ "$START_METHOD" = systemctl ]; then
  ! systemctl is-active --quiet motcuad.service || die "the service started without a configuration"
fi
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/motcuad.service >"$WORK/verify.log" 2>&1 ||
    { cat "$WORK/verify.log"; die "systemd-analyze verify motcuad.service"; }
  say "test: systemd-analyze verify: clean; security exposure:" \
      "$(systemd-analyze security --offline=yes /lib/systemd/system/motcuad.service 2>/dev/null |
         sed -n 's/.*Overall exposure level for motcuad.service: //p')"
fi
/usr/bin/motcuad --help >/dev/null || die "motcuad --help"
rc=0
runuser -u motcua -- /usr/bin/motcuad --config "$CONFIG" >/dev/null 2>"$WORK/noconfig.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q '"event":"start_failed"' "$WORK/noconfig.err" &&
  grep -q "$CONFIG" "$WORK/noconfig.err" ||
  { cat "$WORK/noconfig.err"; die "without $CONFIG motcuad exited $rc, not 1 naming it"; }

# --- 2. a Department PKI of its own (openssl), and the configuration
T=$(now)
PKI="$WORK/pki"
mkdir -p "$PKI/ca-private"
(
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca-private/ca.key -out ca.crt \
    -subj '/C=VN/O=So Giao duc va Dao tao/CN=motcua package test CA' 2>/dev/null
  sign() {  # name subject extensions
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
      -out "$1.csr" -subj "$2" 2>/dev/null
    printf '%b\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca-private/ca.key -CAcreateserial \
      -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm "$1.csr" "$1.ext"
    chmod 600 "$1.key"
  }
  sign server '/CN=localhost' 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'
  sign admin '/O=QN-SGDDT/OU=admin/CN=admin.package-test' 'extendedKeyUsage=clientAuth'
  # The CA's key stays with the Department, never on the server.
  rm -rf ca-private ca.srl
)
install -d -m 0750 -o root -g motcua /etc/motcua/tls /etc/motcua/trust
install -m 0640 -o root -g motcua "$PKI/server.crt" /etc/motcua/tls/server.crt
install -m 0640 -o root -g motcua "$PKI/server.key" /etc/motcua/tls/server.key
install -m 0640 -o root -g motcua "$PKI/ca.crt" /etc/motcua/tls/client-ca.crt
install -m 0640 -o root -g motcua "$PKI/ca.crt" /etc/motcua/trust/department-ca.crt
openssl rand -hex 32 >"$WORK/offline.key"
install -m 0640 -o root -g motcua "$WORK/offline.key" /etc/motcua/offline.key
cat >"$WORK/motcuad.textproto" <<'EOF'
# Written by scripts/package.sh --test: a throwaway CA, port 0 (any free port).
listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
data_dir: "/var/lib/motcua/data"
tls {
  certificate: "tls/server.crt"
  private_key: "tls/server.key"
  client_ca: "tls/client-ca.crt"
}
signature_trust_anchors: "trust/"
tsa_url: "http://127.0.0.1:9/tsa"
units {
  code: "QN-SGDDT"
  name: "Sở Giáo dục và Đào tạo Quảng Ninh"
  parent: "Ủy ban nhân dân tỉnh Quảng Ninh"
  place: "Quảng Ninh"
  signer_titles { key: "head" value: "Giám đốc" }
}
backup_policy {
  backup {
    path: "/var/lib/motcua/backup"
    medium: MEDIUM_SECOND_DISK
    every { seconds: 3600 }
    max_age { seconds: 93600 }
    keep_last: 3
  }
  offline {
    medium: MEDIUM_REMOVABLE
    max_age { seconds: 604800 }
    key_file: "offline.key"
  }
  drill_path: "/var/lib/motcua/drill"
}
EOF
install -m 0640 -o root -g motcua "$WORK/motcuad.textproto" "$CONFIG"
etc_hashes() { find /etc/motcua -type f -print0 | sort -z | xargs -0 sha256sum; }
etc_hashes >"$WORK/etc.before"
say "test: throwaway PKI and $CONFIG in $(since "$T") s"

# --- 3. start, and wait until it serves
T=$(now)
LOG="$WORK/motcuad.log"
if [ "$START_METHOD" = systemctl ]; then
  systemctl start motcuad.service
  INVOCATION=$(systemctl show -p InvocationID --value motcuad.service)
  server_log() { journalctl -q --no-pager -o cat _SYSTEMD_INVOCATION_ID="$INVOCATION" >"$LOG" 2>&1 || true; }
  server_alive() { systemctl is-active --quiet motcuad.service; }
else
  # As the unit would: user motcua, umask 0077, its descriptor limit, in
  # /var/lib/motcua. The shell writes its PID (then motcuad's: exec) to fd 3,
  # which root opened, so SIGTERM goes to motcuad itself, not to runuser.
  (
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # as high as allowed here
    cd /var/lib/motcua
    exec runuser -u motcua -- sh -c \
      'umask 0077; echo $$ >&3; exec 3>&-; exec /usr/bin/motcuad --config "$0"' \
      "$CONFIG" 3>"$WORK/motcuad.pid"
  ) >"$LOG" 2>&1 &
  RUNUSER_PID=$!
  for _ in $(seq 50); do [ -s "$WORK/motcuad.pid" ] && break; sleep 0.1; done
  [ -s "$WORK/motcuad.pid" ] || { cat "$LOG" >&2; die "runuser did not start motcuad"; }
  MOTCUAD_PID=$(cat "$WORK/motcuad.pid")
  server_log() { :; }
  server_alive() { kill -0 "$MOTCUAD_PID" 2>/dev/null; }
fi
ADDRESS=""
for _ in $(seq 300); do
  server_log
  ADDRESS=$(sed -n 's/.*"event":"serving".*"address":"\([^"]*\)".*/\1/p' "$LOG" | tail -1)
  [ -n "$ADDRESS" ] && break
  server_alive || { cat "$LOG" >&2; die "motcuad stopped before serving"; }
  sleep 0.2
done
[ -n "$ADDRESS" ] || { cat "$LOG" >&2; die "motcuad did not log \"serving\" within 60 s"; }
METRICS_PORT=$(sed -n 's/.*"event":"serving".*"metrics_port":\([0-9]*\).*/\1/p' "$LOG" | tail -1)
grep -q '"mode":"production"' "$LOG" || die "motcuad did not start in production mode"
say "test: serving on $ADDRESS after $(since "$T") s (metrics on port $METRICS_PORT)"

# --- 4. it answers: the CLI over mutual TLS as the Department's administrator
# (Debian 12 has no grpcurl: a DossierService call that succeeds is the
# health check; `backup status` exits 0 or 1 when the server answered, 2 when not.)
PROFILE="$WORK/admin.profile"
printf 'server = %s\nca = %s\ncert = %s\nkey = %s\n' "$ADDRESS" "$PKI/ca.crt" \
  "$PKI/admin.crt" "$PKI/admin.key" >"$PROFILE"
cli() { /usr/bin/motcua --profile "$PROFILE" --timeout 20 "$@"; }
cli list --limit 1 >"$WORK/list.out" 2>&1 ||
  { cat "$WORK/list.out" >&2; die "motcua list (DossierService) did not answer"; }
rc=0
cli backup status >"$WORK/status.out" 2>&1 || rc=$?
[ "$rc" -le 1 ] || { cat "$WORK/status.out" >&2; die "motcua backup status exited $rc"; }
# The paths the unit lets it write: copy 2 and the drill's scratch.
cli backup run >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out" >&2; die "motcua backup run"; }
cli backup drill >"$WORK/drill.out" 2>&1 || { cat "$WORK/drill.out" >&2; die "motcua backup drill"; }
if [ -n "$METRICS_PORT" ] && [ "$METRICS_PORT" != 0 ]; then
  exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"
  printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  timeout 10 cat <&3 >"$WORK/metrics.out" || true
  exec 3<&- 3>&-
  grep -q '^motcua_backup_policy_compliant' "$WORK/metrics.out" ||
    { head -20 "$WORK/metrics.out" >&2; die "GET /metrics has no motcua_backup_policy_compliant"; }
fi
say "test: DossierService answered; backup status exit $rc; backup run and drill passed; /metrics served"

# --- 5. SIGTERM: a clean exit within 10 s
T=$(now)
if [ "$START_METHOD" = systemctl ]; then
  timeout 10 systemctl stop motcuad.service || die "systemctl stop took more than 10 s"
  STOP_TIME=$(since "$T")
  result=$(systemctl show -p Result --value motcuad.service)
  code=$(systemctl show -p ExecMainStatus --value motcuad.service)
  [ "$result" = success ] && [ "$code" = 0 ] ||
    die "motcuad stopped with Result=$result ExecMainStatus=$code"
  server_log
else
  kill -TERM "$MOTCUAD_PID"
  for _ in $(seq 100); do kill -0 "$MOTCUAD_PID" 2>/dev/null || break; sleep 0.1; done
  STOP_TIME=$(since "$T")
  kill -0 "$MOTCUAD_PID" 2>/dev/null && die "motcuad still runs 10 s after SIGTERM"
  code=0
  wait "$RUNUSER_PID" || code=$?
  MOTCUAD_PID=""
  [ "$code" -eq 0 ] || { cat "$LOG" >&2; die "motcuad exited $code after SIGTERM"; }
fi
grep -q '"event":"stopped"' "$LOG" || { cat "$LOG" >&2; die "no \"stopped\" in the log"; }
etc_hashes | cmp -s - "$WORK/etc.before" || die "motcuad changed a file in /etc/motcua"
[ "$(find /var/lib/motcua/data /var/lib/motcua/backup -user motcua -perm /077 -type f | wc -l)" -eq 0 ] ||
  die "files under /var/lib/motcua are readable by others than motcua (UMask)"
say "test: stopped with exit 0 in $STOP_TIME s; /etc/motcua unchanged"

# --- 6. purge with data in place: the programs go; data, configuration, user stay
T=$(now)
apt_get purge1.log purge -y motcua
for f in /usr/bin/motcuad /usr/bin/motcua /lib/systemd/system/motcuad.service /usr/share/motcua; do
  [ ! -e "$f" ] || die "$f is still there after purge"
done
[ -d /var/lib/motcua/data ] || die "purge deleted the data"
[ -f "$CONFIG" ] || die "purge deleted the configuration"
getent passwd motcua >/dev/null || die "purge removed the user motcua, who still owns /var/lib/motcua"
grep -q "data in /var/lib/motcua is kept" "$WORK/purge1.log" || die "purge did not say the data is kept"
! dpkg-statoverride --list /etc/motcua >/dev/null || die "purge left the statoverride of /etc/motcua"
say "test: purged in $(since "$T") s: programs gone; data, configuration and user motcua kept"

# --- 7. install again (same user), then delete the data deliberately and purge: nothing left
T=$(now)
apt_get install2.log install -y "$DEB_COPY"
[ "$(id -u motcua)" = "$MOTCUA_UID" ] || die "the reinstalled package changed the uid of motcua"
if [ "$START_METHOD" = systemctl ]; then
  # A configuration exists, so postinst enables and starts the service.
  systemctl is-active --quiet motcuad.service || die "postinst did not start the configured service"
  systemctl stop motcuad.service
  systemctl is-enabled --quiet motcuad.service || die "postinst did not enable the configured service"
fi
[ -z "$(installed_motcuad_pids)" ] || die "motcuad still runs"
rm -rf /var/lib/motcua /etc/motcua/*  # as docs/OPERATIONS.md, "Removing data deliberately"
apt_get purge2.log purge -y motcua
for path in /etc/motcua /var/lib/motcua /usr/bin/motcuad /etc/systemd/system/multi-user.target.wants/motcuad.service; do
  [ ! -e "$path" ] || die "$path is still there after the second purge"
done
! getent passwd motcua >/dev/null || die "purge kept the user motcua although no data is left"
! getent group motcua >/dev/null || die "purge kept the group motcua although no data is left"
MACHINE_TOUCHED=0
say "test: reinstalled, data deleted deliberately, purged in $(since "$T") s: user, group and directories gone"
say "test: PASSED in $(since "$T_TEST") s (start method: $START_METHOD)"
echo "$DEB"
