# ctest driver of one fuzz target: replays every regression input (each must run clean), then
# fuzzes for RUNS runs from a scratch copy of the seed corpus with a fixed seed. Any crash, leak
# or sanitizer report fails the test with libFuzzer's output.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
if(NOT seeds)
  message(FATAL_ERROR "no seed inputs in ${SEEDS}")
endif()
file(COPY ${seeds} DESTINATION ${WORK}/corpus)

set(dict_arg "")
if(EXISTS ${DICT})
  set(dict_arg -dict=${DICT})
endif()

if(IS_DIRECTORY ${REGRESSIONS})
  file(GLOB inputs ${REGRESSIONS}/*)
  if(inputs)
    # Given files (not a directory), libFuzzer runs each once and exits non-zero on a finding.
    execute_process(COMMAND ${FUZZER} -artifact_prefix=${WORK}/artifacts/ ${inputs}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "a regression input fails again (exit ${rc}):\n${out}")
    endif()
    list(LENGTH inputs n)
    message(STATUS "${n} regression inputs run clean")
  endif()
endif()

execute_process(COMMAND ${FUZZER} -runs=${RUNS} -seed=1 -max_len=4096 -timeout=10
                        -artifact_prefix=${WORK}/artifacts/ ${dict_arg} ${WORK}/corpus
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second" done "${out}")
string(REGEX MATCH "cov: [0-9]+ ft: [0-9]+" cov "${out}")
if(NOT rc EQUAL 0 OR NOT done)
  message(FATAL_ERROR "fuzzing found something (exit ${rc}); the input is in ${WORK}/artifacts:\n${out}")
endif()
message(STATUS "${done}(s), ${cov}")
