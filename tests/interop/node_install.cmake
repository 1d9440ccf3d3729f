# `npm ci` of tests/interop/node into the build tree, once: run by the interop_node_install
# fixture before the tests that drive peer.js. It is skipped while the installed lock file is
# the source's, so a rerun costs nothing.
#   cmake -DSOURCE=<tests/interop/node> -DDESTINATION=<build dir> -DNPM=<npm> -P node_install.cmake
if(NOT NPM OR NOT EXISTS "${NPM}")
  message(FATAL_ERROR "npm not found: the interop tests need Node.js and npm (apt-get install nodejs npm)")
endif()
file(MAKE_DIRECTORY "${DESTINATION}")
file(COPY "${SOURCE}/package.json" "${SOURCE}/package-lock.json" "${SOURCE}/peer.js" DESTINATION "${DESTINATION}")
file(SHA256 "${SOURCE}/package-lock.json" wanted)
set(stamp "${DESTINATION}/node_modules/.installed-lock")
if(EXISTS "${stamp}")
  file(READ "${stamp}" installed)
  if(installed STREQUAL wanted)
    message(STATUS "node peers already installed in ${DESTINATION}")
    return()
  endif()
endif()
string(TIMESTAMP started "%s")
# --ignore-scripts: no package here needs one (protobufjs' postinstall only warns about versions).
execute_process(COMMAND "${NPM}" ci --prefix "${DESTINATION}" --no-audit --no-fund --ignore-scripts
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "npm ci in ${DESTINATION} failed (${result}): is the npm registry reachable?")
endif()
file(WRITE "${stamp}" "${wanted}")
string(TIMESTAMP ended "%s")
math(EXPR took "${ended} - ${started}")
message(STATUS "node peers installed in ${DESTINATION} in ${took} s")
