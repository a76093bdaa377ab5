#pragma once
// What every fuzz target checks besides the sanitizers: a broken promise of the code under test
// prints what was broken and aborts, which libFuzzer reports as a crash with the input saved.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                               \
    do {                                                                     \
        if (!(cond)) redloop::fuzz::broken(#cond, what, __FILE__, __LINE__); \
    } while (false)

namespace redloop::fuzz {

[[noreturn]] inline void broken(const char* cond, std::string_view what, const char* file,
                                int line) {
    std::fprintf(stderr, "\n%s:%d: FUZZ_CHECK(%s) failed: %.*s\n", file, line, cond,
                 static_cast<int>(what.size()), what.data());
    std::abort();
}

}  // namespace redloop::fuzz
