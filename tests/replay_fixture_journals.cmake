# Replays every recorded journal in JOURNAL_DIR into an empty database and checks its state
# hash (NAME.hash beside NAME.jsonl). Fails on the first divergence or hash mismatch.
if(NOT REDLOOP_BIN OR NOT JOURNAL_DIR OR NOT WORK_DIR)
  message(FATAL_ERROR "pass -DREDLOOP_BIN=... -DJOURNAL_DIR=... -DWORK_DIR=...")
endif()
file(GLOB journals "${JOURNAL_DIR}/*.jsonl")
list(SORT journals)
list(LENGTH journals count)
if(count LESS 4)
  message(FATAL_ERROR "expected at least 4 journals in ${JOURNAL_DIR}, found ${count}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
foreach(journal IN LISTS journals)
  get_filename_component(name "${journal}" NAME_WE)
  file(READ "${JOURNAL_DIR}/${name}.hash" expected)
  string(STRIP "${expected}" expected)
  execute_process(
    COMMAND "${REDLOOP_BIN}" --log-level warn replay "${journal}" --db "${WORK_DIR}/${name}.db"
            --expect-hash "${expected}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: replay failed (exit ${rc})\n${out}\n${err}")
  endif()
  string(STRIP "${out}" out)
  message(STATUS "${name}: ${out}")
endforeach()
message(STATUS "${count} journals replayed to their recorded state hashes")
