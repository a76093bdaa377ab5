#pragma once
// Result<T>: shaped like C++23 std::expected<T, Error> so it can be swapped for it later.
#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "redloop/engine/error.hpp"

namespace redloop::engine {

struct Unexpected {
    Error error;
};

inline Unexpected fail(ErrorCode code, std::string detail) {
    return Unexpected{Error{code, std::move(detail)}};
}
inline Unexpected fail(Error error) {
    return Unexpected{std::move(error)};
}

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
    Result(Unexpected u) : state_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(state_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(state_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        assert(!has_value());
        return std::get<1>(state_);
    }

  private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT: implicit

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const {
        assert(!ok_);
        return error_;
    }

  private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace redloop::engine
