#pragma once
// Test input for check_engine_includes.cmake: an engine file that includes Boost must fail.
#include <boost/json.hpp>
