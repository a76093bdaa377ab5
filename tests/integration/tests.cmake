# Integration tests: the real `redloop` binary on a free loopback port, driven over HTTP.
# Included from tests/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is tests/ and
# CMAKE_CURRENT_BINARY_DIR is <build>/tests.
set(REDLOOP_IT_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(integration_tests
  ${REDLOOP_IT_DIR}/http_client.cpp
  ${REDLOOP_IT_DIR}/server_process.cpp
  ${REDLOOP_IT_DIR}/support.cpp
  ${REDLOOP_IT_DIR}/analytics_test.cpp
  ${REDLOOP_IT_DIR}/auth_test.cpp
  ${REDLOOP_IT_DIR}/catalog_test.cpp
  ${REDLOOP_IT_DIR}/checkout_test.cpp
  ${REDLOOP_IT_DIR}/cli_test.cpp
  ${REDLOOP_IT_DIR}/flash_sale_test.cpp
  ${REDLOOP_IT_DIR}/hostile_test.cpp
  ${REDLOOP_IT_DIR}/commissions_test.cpp
  ${REDLOOP_IT_DIR}/http_test.cpp
  ${REDLOOP_IT_DIR}/merchants_test.cpp
  ${REDLOOP_IT_DIR}/multinode_test.cpp
  ${REDLOOP_IT_DIR}/notes_test.cpp
  ${REDLOOP_IT_DIR}/payments_test.cpp
  ${REDLOOP_IT_DIR}/privacy_test.cpp
  ${REDLOOP_IT_DIR}/../support/test_key_ring.cpp
  ${REDLOOP_IT_DIR}/promotions_test.cpp
  ${REDLOOP_IT_DIR}/races_test.cpp
  ${REDLOOP_IT_DIR}/replay_test.cpp
  ${REDLOOP_IT_DIR}/static_test.cpp
  ${REDLOOP_IT_DIR}/stream_test.cpp
  ${REDLOOP_IT_DIR}/ws_client.cpp)
target_include_directories(integration_tests PRIVATE ${REDLOOP_IT_DIR})
target_link_libraries(integration_tests PRIVATE
  redloop_api redloop_test_db redloop_doctest_main redloop_warnings SQLite::SQLite3
  OpenSSL::Crypto)
# The tests run the server binary: building them builds it.
add_dependencies(integration_tests redloop)

# One ctest test per doctest suite, so that `ctest -j2` runs suites (each with its own servers)
# in parallel. A suite whose name matches no test case would pass silently: the FAIL regex
# catches "test cases: 0".
set(REDLOOP_IT_SUITES
  integration_http
  integration_auth
  integration_merchants
  integration_catalog
  integration_checkout
  integration_races
  integration_flash_sale
  integration_notes
  integration_analytics
  integration_payments
  integration_privacy
  integration_promotions
  integration_commissions
  integration_replay
  integration_cli
  integration_stream
  integration_static
  integration_hostile
  integration_multinode)
foreach(suite IN LISTS REDLOOP_IT_SUITES)
  add_test(NAME ${suite} COMMAND integration_tests --test-suite=${suite})
  set_tests_properties(${suite} PROPERTIES
    ENVIRONMENT "REDLOOP_BIN=$<TARGET_FILE:redloop>;REDLOOP_FIXTURES=${PROJECT_SOURCE_DIR}/fixtures/demo;REDLOOP_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp"
    TIMEOUT 120
    FAIL_REGULAR_EXPRESSION "test cases:[ ]+0[ ]+\\|"
    LABELS integration)
endforeach()
# Two nodes on a PostgreSQL cluster of its own, started with scripts/pg-cluster.
set_property(TEST integration_multinode APPEND PROPERTY ENVIRONMENT
  "REDLOOP_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
set_tests_properties(integration_multinode PROPERTIES TIMEOUT 300 LABELS "integration;postgresql")
