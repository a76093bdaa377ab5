#pragma once
// A state machine is a constexpr table of (from, event, to) rows; a move not in the table is
// refused by the caller with invalid_transition.
#include <array>
#include <cstddef>
#include <optional>

namespace redloop::engine {

template <typename State, typename Event>
struct Transition {
    State from;
    Event event;
    State to;
};

template <typename State, typename Event, std::size_t N>
constexpr std::optional<State> find_transition(const std::array<Transition<State, Event>, N>& table,
                                               State from, Event event) {
    for (const auto& t : table) {
        if (t.from == from && t.event == event) return t.to;
    }
    return std::nullopt;
}

}  // namespace redloop::engine
