#pragma once
// Small pieces every handler uses: JSON responses, path ids, pagination parameters.
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "app.hpp"
#include "redloop/engine/order.hpp"
#include "redloop/engine/result.hpp"

namespace redloop::api {

Response json_response(int status, const boost::json::value& v);

// A malformed id in the path is 400; a well-formed one that names nothing is the handler's 404.
template <typename IdT>
engine::Result<IdT> path_id(const Context& ctx, std::size_t i) {
    return IdT::parse(ctx.param(i));
}

struct PageParams {
    int limit = 20;
    std::optional<std::int64_t> before;  // from ?cursor=
};
// ?limit= (1..100, default 20) and ?cursor= (opaque, from a previous page).
engine::Result<PageParams> page_params(const Request& req);
std::string encode_cursor(std::int64_t seq);

// "usr_x" / "mer_x" for the signed-in caller (after require()).
inline bool owns(const Principal& p, const engine::MerchantId& m) {
    return p.role == Role::merchant && p.sub.str() == m.str();
}
// The buyer of an order, and its merchant.
inline bool is_buyer(const Principal& p, const engine::Order& o) {
    return p.role == Role::user && p.sub.str() == o.user_id.str();
}
inline bool is_seller(const Principal& p, const engine::Order& o) {
    return owns(p, o.merchant_id);
}

// Commissions (handlers_commissions.cpp), inside the caller's transaction: the accrual of an
// order that just became paid, and the reversal a succeeded refund of `order` (carrying its new
// refunded amount) brings.
void accrue_commissions(db::Tx& tx, const engine::Order& paid, engine::Timestamp now);
void reverse_commissions(db::Tx& tx, const engine::Order& order, const engine::RefundId& refund,
                         engine::Timestamp now);

// The header App::write puts on an answer given again under an Idempotency-Key.
inline constexpr const char* kReplayedHeader = "Idempotent-Replayed";
// True for such an answer: the work behind it (and its side effects) already happened.
bool is_replayed(const Response& r);

}  // namespace redloop::api
