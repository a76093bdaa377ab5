// An exported journal as a replay writes it again: every recorded effects value null.
#include <doctest/doctest.h>

#include <string>

#include "replay.hpp"

using redloop::api::journal_without_effects;

TEST_CASE("journal_without_effects nulls members, carriers and nothing else") {
    const std::string in =
        R"({"seq":1,"body":"{\"effects\":\"kept\"}","effects":"+0123456789abcdef"})"
        "\n"
        R"({"seq":2,"body":"","effects":"0123456789abcdef:AAEC;orders=3,skus=1"})"
        "\n"
        R"({"seq":3,"body":"","effects":null})"
        "\n";
    const std::string want = R"({"seq":1,"body":"{\"effects\":\"kept\"}","effects":null})"
                             "\n"
                             R"({"seq":2,"body":"","effects":null})"
                             "\n"
                             R"({"seq":3,"body":"","effects":null})"
                             "\n";
    CHECK(journal_without_effects(in) == want);
    CHECK(journal_without_effects("") == "");
    // Not a journal line (the value never ends): returned as it is, no endless loop.
    CHECK(journal_without_effects(R"({"effects":"+abc)") == R"({"effects":"+abc)");
}
