# Replays every recorded journal in JOURNAL_DIR into an empty database and checks its state
# hash (NAME.hash beside NAME.jsonl). Fails on the first divergence or hash mismatch.
# With -DPG_URL=postgresql://user@host:port (and -DPG_CLUSTER=scripts/pg-cluster) each journal
# goes into a fresh PostgreSQL database on that server instead of a SQLite file: the recorded
# hashes are the same on both.
if(NOT REDLOOP_BIN OR NOT JOURNAL_DIR OR NOT WORK_DIR)
  message(FATAL_ERROR "pass -DREDLOOP_BIN=... -DJOURNAL_DIR=... -DWORK_DIR=...")
endif()
if(PG_URL)
  if(NOT PG_URL MATCHES ":([0-9]+)$" OR NOT PG_CLUSTER)
    message(FATAL_ERROR "PG_URL must end in :PORT and PG_CLUSTER name scripts/pg-cluster")
  endif()
  set(pg_port ${CMAKE_MATCH_1})
endif()
# The replayed databases seal personal data (a scratch key when the caller sets none).
if(NOT DEFINED ENV{REDLOOP_DATA_KEYS})
  set(ENV{REDLOOP_DATA_KEYS} "replay:cmVkbG9vcC1yZXBsYXktZml4dHVyZXMta2V5LTMyYnk=")
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
  set(target "${WORK_DIR}/${name}.db")
  if(PG_URL)
    execute_process(COMMAND bash "${PG_CLUSTER}" createdb ${pg_port} "replay_${name}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE target ERROR_VARIABLE err
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${name}: could not create a PostgreSQL database (exit ${rc})\n${err}")
    endif()
  endif()
  execute_process(
    COMMAND "${REDLOOP_BIN}" --log-level warn replay "${journal}" --db "${target}"
            --expect-hash "${expected}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: replay failed (exit ${rc})\n${out}\n${err}")
  endif()
  string(STRIP "${out}" out)
  message(STATUS "${name}: ${out}")
endforeach()
message(STATUS "${count} journals replayed to their recorded state hashes")
