# Runs one command line and checks its exit code and output: the programs' contract for bad input
# (one clear message naming what was wrong, a non-zero exit) and for good input. Variables:
# COMMAND (a ;-list), EXPECT_RC (an exit code, or "nonzero"), EXPECT (a regular expression the
# combined stdout and stderr must match), optional CHECK_FILES (a ;-list of paths that must exist).
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 250)
message(STATUS "exit: ${rc}\nstdout:\n${out}\nstderr:\n${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the program did not exit normally: ${rc}")
endif()
if(EXPECT_RC STREQUAL "nonzero")
  if(rc EQUAL 0)
    message(FATAL_ERROR "expected a non-zero exit code, got 0")
  endif()
elseif(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got ${rc}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match: ${EXPECT}")
endif()
foreach(f ${CHECK_FILES})
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "expected the file ${f}")
  endif()
endforeach()
