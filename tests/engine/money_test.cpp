#include <doctest/doctest.h>

#include "redloop/engine/money.hpp"

using namespace redloop::engine;

TEST_CASE("currency parses known ISO 4217 codes only") {
    CHECK(Currency::parse("CNY")->code() == "CNY");
    CHECK(Currency::parse("JPY")->minor_digits() == 0);
    CHECK_FALSE(Currency::parse("cny"));
    CHECK_FALSE(Currency::parse("XXX"));
    CHECK_FALSE(Currency::parse(""));
    CHECK(Currency::parse("ABCD").error().code == ErrorCode::invalid_request);
}

TEST_CASE("money arithmetic refuses mixed currencies and overflow") {
    const Money a{1050, Currency::cny()};
    const Money b{250, Currency::cny()};
    CHECK(add(a, b)->minor == 1300);
    CHECK(subtract(a, b)->minor == 800);
    CHECK(multiply(a, 3)->minor == 3150);
    const Money usd{100, *Currency::parse("USD")};
    auto mixed = add(a, usd);
    REQUIRE_FALSE(mixed);
    CHECK(mixed.error().detail.find("cannot mix currencies CNY and USD") != std::string::npos);
    CHECK_FALSE(subtract(a, usd));
    CHECK_FALSE(multiply(Money{kMoneyMinorMax, Currency::cny()}, 2));
    CHECK_FALSE(add(Money{kMoneyMinorMax, Currency::cny()}, Money{1, Currency::cny()}));
    CHECK(multiply(a, 0)->minor == 0);
}

TEST_CASE("money displays in major units") {
    CHECK(to_display(Money{6800, Currency::cny()}) == "68.00 CNY");
    CHECK(to_display(Money{-5, Currency::cny()}) == "-0.05 CNY");
    CHECK(to_display(Money{1200, *Currency::parse("JPY")}) == "1200 JPY");
}
