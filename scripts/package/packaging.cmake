# The Debian package `motcua` (CPack, DEB generator): what `make install`
# and `cpack` put where, and the package's metadata. Included at the end of
# the top-level CMakeLists.txt, after the targets exist; scripts/package.sh
# builds the package with it into <build>/package/.
#
#   /usr/bin/motcuad, /usr/bin/motcua          the server and the CLI (stripped)
#   /lib/systemd/system/motcuad.service        the hardened unit
#   /etc/motcua/                               empty: the operator writes the
#                                              configuration (0750 root:motcua)
#   /usr/share/motcua/                         the example configuration and the
#                                              .proto files that define it
#   /usr/share/doc/motcua/                     the operator's guide, the example
#
# The maintainer scripts beside this file create the user and group motcua
# and /var/lib/motcua; nothing here ships a key, a certificate or a
# configuration.

include(GNUInstallDirs)

# `make install` and cpack's "preinstall" step build only what they install
# (scripts/package.sh builds motcuad and motcua first), not every test.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(MOTCUA_PACKAGE_DIR ${CMAKE_CURRENT_LIST_DIR})

install(TARGETS motcuad motcua RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Debian 12 keeps units of packages in /lib (dpkg does not yet know that
# /lib and /usr/lib are the same directory on merged-/usr systems).
install(FILES ${MOTCUA_PACKAGE_DIR}/motcuad.service DESTINATION /lib/systemd/system)
# The directory only; its owner and mode come from postinst
# (dpkg-statoverride), so an operator's own choice survives upgrades.
install(DIRECTORY DESTINATION /etc/motcua)
install(FILES ${CMAKE_SOURCE_DIR}/docs/examples/motcuad.textproto
        DESTINATION ${CMAKE_INSTALL_DATADIR}/motcua RENAME motcuad.textproto.example)
install(FILES ${CMAKE_SOURCE_DIR}/proto/motcua/v1/config.proto
              ${CMAKE_SOURCE_DIR}/proto/motcua/v1/backup.proto
        DESTINATION ${CMAKE_INSTALL_DATADIR}/motcua/proto)
# Minimal Debian images drop /usr/share/doc; the example stays in
# /usr/share/motcua either way.
install(FILES ${CMAKE_SOURCE_DIR}/docs/OPERATIONS.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/docs/examples/motcuad.textproto
        DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME motcuad.textproto.example)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME motcua)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "motcua team")
set(CPACK_PACKAGE_CONTACT "motcua team")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
# The DEB generator installs into a staging DESTDIR by itself (the unit
# and /etc/motcua have absolute destinations); the rest goes under /usr,
# whatever CMAKE_INSTALL_PREFIX says.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The build type is RelWithDebInfo; the package carries no debug info
# (70 MB -> a few MB per binary).
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "one-stop dossier workflow server for Departments of Education and Training")

set(CPACK_DEBIAN_PACKAGE_NAME motcua)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # motcua_<version>-<release>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "motcua team")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION
    "motcuad serves the one-stop (mot cua) administrative procedures of a\n"
    "provincial Department of Education and Training over gRPC with mutual\n"
    "TLS: dossiers as state machines committed to RocksDB, hash-chained\n"
    "histories, PAdES-signed result documents and a 3-2-1 backup policy that\n"
    "the server enforces. motcua is its command-line client and an offline\n"
    "PDF signature verifier.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
# Shared libraries (gRPC, protobuf, RocksDB, OpenSSL, PoDoFo, libp11, ...)
# by dpkg-shlibdeps. What it cannot see: the DejaVu fonts every document
# is set in (signing/pdf_fonts.cc reads them by path), and adduser, which
# postinst runs.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core, fonts-dejavu-extra, adduser")
# PKCS#11 modules are loaded by the path the configuration names: SoftHSM
# for software seals, OpenSC and pcscd for smart-card and USB tokens.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "softhsm2, opensc, pcscd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${MOTCUA_PACKAGE_DIR}/postinst ${MOTCUA_PACKAGE_DIR}/prerm ${MOTCUA_PACKAGE_DIR}/postrm)
# Maintainer scripts 0755 and the control files 0644, as dpkg expects.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
