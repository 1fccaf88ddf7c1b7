# Runs abort_program under mpirun with two ranks and checks that the job ended (rather than hung)
# with a non-zero exit code and rank 1's message. Variables: MPIEXEC, NPFLAG, PROGRAM, and
# optional PREFLAGS (a ;-list of extra mpirun options).
execute_process(
  COMMAND ${MPIEXEC} ${NPFLAG} 2 ${PREFLAGS} ${PROGRAM}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT 50)
message(STATUS "exit: ${result}\nstdout:\n${out}\nstderr:\n${err}")
if(result EQUAL 0)
  message(FATAL_ERROR "the job exited with 0: the failing rank did not end it")
endif()
if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the job did not exit normally (${result}): a hang or a crash")
endif()
if(NOT "${err}${out}" MATCHES "rank 1: [^\n]*deliberate failure on rank 1")
  message(FATAL_ERROR "rank 1's message was not printed")
endif()
if("${out}" MATCHES "must not happen")
  message(FATAL_ERROR "a rank passed the collectives")
endif()
