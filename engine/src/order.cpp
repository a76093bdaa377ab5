#include "redloop/engine/order.hpp"

#include <fmt/format.h>

#include "redloop/engine/text.hpp"

namespace redloop::engine {

std::string_view to_string(OrderStatus s) {
    switch (s) {
        case OrderStatus::awaiting_payment:
            return "awaiting_payment";
        case OrderStatus::paid:
            return "paid";
        case OrderStatus::shipped:
            return "shipped";
        case OrderStatus::delivered:
            return "delivered";
        case OrderStatus::completed:
            return "completed";
        case OrderStatus::cancelled:
            return "cancelled";
        case OrderStatus::expired:
            return "expired";
        case OrderStatus::refunded:
            return "refunded";
    }
    return "awaiting_payment";
}

std::optional<OrderStatus> parse_order_status(std::string_view s) {
    for (auto st : {OrderStatus::awaiting_payment, OrderStatus::paid, OrderStatus::shipped,
                    OrderStatus::delivered, OrderStatus::completed, OrderStatus::cancelled,
                    OrderStatus::expired, OrderStatus::refunded}) {
        if (to_string(st) == s) return st;
    }
    return std::nullopt;
}

std::string_view to_string(OrderEvent e) {
    switch (e) {
        case OrderEvent::pay:
            return "pay";
        case OrderEvent::ship:
            return "ship";
        case OrderEvent::deliver:
            return "deliver";
        case OrderEvent::complete:
            return "complete";
        case OrderEvent::cancel:
            return "cancel";
        case OrderEvent::expire:
            return "expire";
        case OrderEvent::refund:
            return "refund";
    }
    return "pay";
}

Result<OrderStatus> next_status(const OrderId& id, OrderStatus from, OrderEvent event) {
    if (auto to = order_transition(from, event)) return *to;
    return fail(ErrorCode::invalid_transition, fmt::format("order {} is {}: it cannot {}", id.str(),
                                                           to_string(from), to_string(event)));
}

Status validate(std::string_view field, const ShippingAddress& a) {
    const std::pair<const char*, const std::string*> fields[] = {
        {"name", &a.name},
        {"phone", &a.phone},
        {"line1", &a.line1},
        {"city", &a.city},
        {"postal_code", &a.postal_code},
        {"country", &a.country},
    };
    for (const auto& [name, value] : fields) {
        const std::size_t max =
            std::string_view(name) == "phone" || std::string_view(name) == "postal_code"
                ? 32
                : kAddressFieldMax;
        if (auto s = check_text(fmt::format("{}.{}", field, name), *value, 1, max, Lines::single);
            !s) {
            return s;
        }
    }
    for (char c : a.phone) {
        const bool ok =
            (c >= '0' && c <= '9') || c == '+' || c == '-' || c == ' ' || c == '(' || c == ')';
        if (!ok) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("{}.phone may contain only digits, spaces and + - ( )", field));
        }
    }
    const bool country_ok = a.country.size() == 2 && a.country[0] >= 'A' && a.country[0] <= 'Z' &&
                            a.country[1] >= 'A' && a.country[1] <= 'Z';
    if (!country_ok) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("{}.country must be an ISO 3166-1 alpha-2 code such as CN", field));
    }
    return {};
}

Status validate(const Shipment& s) {
    if (auto r = check_text("carrier", s.carrier, 1, kCarrierMax, Lines::single); !r) return r;
    return check_text("tracking_number", s.tracking_number, 1, kTrackingMax, Lines::single);
}

Result<Order> apply_event(const Order& order, OrderEvent event, Timestamp now) {
    auto to = next_status(order.id, order.status, event);
    if (!to) return fail(to.error());
    Order out = order;
    out.status = *to;
    out.history.push_back(HistoryEntry{*to, now});
    out.updated_at = now;
    return out;
}

}  // namespace redloop::engine
