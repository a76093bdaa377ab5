#pragma once
// Money is an integer count of the currency's smallest unit (fen for CNY). Never double.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "redloop/engine/result.hpp"

namespace redloop::engine {

// An ISO 4217 code that the engine knows, with its number of minor-unit digits.
class Currency {
  public:
    // Parses an upper-case ISO 4217 code among the supported ones.
    static Result<Currency> parse(std::string_view code);
    static Currency cny() { return Currency("CNY", 2); }

    std::string_view code() const { return {code_.data(), 3}; }
    int minor_digits() const { return minor_digits_; }

    friend bool operator==(const Currency& a, const Currency& b) { return a.code_ == b.code_; }

  private:
    Currency(std::string_view code, int digits);
    std::array<char, 3> code_{};
    int minor_digits_ = 2;
};

// Upper bound of any single amount the engine accepts: 10^12 minor units (10 billion CNY).
inline constexpr std::int64_t kMoneyMinorMax = 1'000'000'000'000;

struct Money {
    std::int64_t minor = 0;
    Currency currency = Currency::cny();

    friend bool operator==(const Money&, const Money&) = default;
};

// Sum and difference refuse to mix currencies and to leave [-kMoneyMinorMax, kMoneyMinorMax].
Result<Money> add(const Money& a, const Money& b);
Result<Money> subtract(const Money& a, const Money& b);
// amount * quantity, refusing overflow past kMoneyMinorMax.
Result<Money> multiply(const Money& a, std::int64_t quantity);

// "12.34 CNY", for messages and logs.
std::string to_display(const Money& m);

}  // namespace redloop::engine
