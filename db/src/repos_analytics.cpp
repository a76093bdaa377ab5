// Attribution: which notes sold what, per shop.
#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

void count_add_to_cart(Tx& tx, const NoteId& note, const SkuId& sku) {
    Query q(tx,
            "INSERT INTO note_sku_stats (note_id, sku_id, add_to_carts) VALUES (:n, :s, 1) "
            "ON CONFLICT (note_id, sku_id) DO UPDATE SET "
            "add_to_carts = note_sku_stats.add_to_carts + 1");
    q.use(note.str()).use(sku.str());
    q.run();
}

namespace {

// The statuses whose orders count as sold: paid, and every status a paid order can reach.
bool counts_as_sold(std::string_view status) {
    const auto s = parse_order_status(status);
    if (!s) return false;
    switch (*s) {
        case OrderStatus::paid:
        case OrderStatus::shipped:
        case OrderStatus::delivered:
        case OrderStatus::completed:
        case OrderStatus::refunded:
            return true;
        case OrderStatus::awaiting_payment:
        case OrderStatus::cancelled:
        case OrderStatus::expired:
            return false;
    }
    return false;
}

// What the shop's order lines say of one note.
struct LineTotals {
    long long orders = 0, units = 0, gmv = 0, discount = 0, commission = 0;
    long long last_order = -1;  // seq of the last sold order counted in `orders`
};

}  // namespace

// Three reads: the shop's lines that name a note, in one pass over its orders (the indexes of
// 0007 and 0010 cover it); the notes tagging the shop's SKUs or added to carts with them, with
// their views; the add-to-cart counts. A note named only on lines is looked up by id.
std::vector<NoteAttribution> note_attribution(Tx& tx, const MerchantId& merchant) {
    const std::string m = merchant.str();
    std::unordered_map<std::string, LineTotals> lines;
    {
        // Rows come grouped by order (ORDER BY o.id, the index's order), so an order is counted
        // once per note however many of its lines name the note. o.seq is the order's row id,
        // in the index too, and cheaper to compare than o.id.
        std::string status, note;
        long long seq = 0, quantity = 0, line_total = 0, discount = 0, commission = 0,
                  previous_seq = -1;  // seqs start at 1
        Query q(tx,
                "SELECT o.seq, o.status, l.note_id, l.quantity, l.line_total_minor, "
                "l.discount_minor, l.commission_minor FROM orders o "
                "JOIN order_lines l ON l.order_id = o.id WHERE o.merchant_id = :m AND "
                "l.note_id IS NOT NULL ORDER BY o.id");
        q.into(seq)
            .into(status)
            .into(note)
            .into(quantity)
            .into(line_total)
            .into(discount)
            .into(commission)
            .use(m);
        q.execute();
        bool sold = false;
        while (q.fetch()) {
            if (seq != previous_seq) {
                previous_seq = seq;
                sold = counts_as_sold(status);
            }
            auto& t = lines[note];
            if (!sold) continue;
            if (t.last_order != seq) {
                ++t.orders;
                t.last_order = seq;
            }
            t.units += quantity;
            t.gmv += line_total;
            t.discount += discount;
            t.commission += commission;
        }
    }
    std::map<std::string, NoteAttribution> by_note;
    std::string note;
    {
        // The notes tagging the shop's SKUs or added to carts with them.
        std::string title, author;
        long long views = 0;
        soci::indicator views_ind = soci::i_null;
        Query q(tx,
                "SELECT n.id, n.title, n.author_id, st.views FROM notes n "
                "LEFT JOIN note_stats st ON st.note_id = n.id WHERE n.id IN ("
                "SELECT ns.note_id FROM note_skus ns JOIN skus s ON s.id = ns.sku_id "
                "WHERE s.merchant_id = :m1 "
                "UNION SELECT c.note_id FROM note_sku_stats c JOIN skus s2 ON s2.id = c.sku_id "
                "WHERE s2.merchant_id = :m2)");
        q.into(note).into(title).into(author).into(views, views_ind).use(m).use(m);
        q.execute();
        while (q.fetch()) {
            auto& a = by_note[note];
            a.note_id = NoteId::trusted(note);
            a.title = title;
            a.author_id = author;
            a.views = views_ind == soci::i_ok ? views : 0;
        }
    }
    for (const auto& entry : lines) {
        const std::string& id = entry.first;
        if (by_note.count(id)) continue;
        // Named on the shop's lines only (the note no longer tags its SKUs).
        std::string title, author;
        long long views = 0;
        soci::indicator views_ind = soci::i_null;
        Query q(tx,
                "SELECT n.title, n.author_id, st.views FROM notes n "
                "LEFT JOIN note_stats st ON st.note_id = n.id WHERE n.id = :n");
        q.into(title).into(author).into(views, views_ind).use(id);
        q.execute();
        if (!q.fetch()) continue;  // a line may name a note that is gone
        auto& a = by_note[id];
        a.note_id = NoteId::trusted(id);
        a.title = std::move(title);
        a.author_id = std::move(author);
        a.views = views_ind == soci::i_ok ? views : 0;
    }
    {
        long long carts = 0;
        Query q(tx,
                "SELECT st.note_id, SUM(st.add_to_carts) FROM note_sku_stats st "
                "JOIN skus s ON s.id = st.sku_id WHERE s.merchant_id = :m GROUP BY st.note_id");
        q.into(note).into(carts).use(m);
        q.execute();
        while (q.fetch()) {
            if (auto it = by_note.find(note); it != by_note.end()) it->second.add_to_carts = carts;
        }
    }
    for (auto& [id, a] : by_note) {
        if (auto it = lines.find(id); it != lines.end()) {
            a.orders = it->second.orders;
            a.units = it->second.units;
            a.gmv_minor = it->second.gmv;
            a.discount_minor = it->second.discount;
            a.commission_minor = it->second.commission;
        }
    }
    std::vector<NoteAttribution> out;
    out.reserve(by_note.size());
    for (auto& [id, a] : by_note) out.push_back(std::move(a));
    std::sort(out.begin(), out.end(), [](const NoteAttribution& x, const NoteAttribution& y) {
        if (x.gmv_minor != y.gmv_minor) return x.gmv_minor > y.gmv_minor;
        if (x.units != y.units) return x.units > y.units;
        return x.note_id.str() < y.note_id.str();
    });
    return out;
}

}  // namespace redloop::db
