// Attribution: which notes sold what, per shop.
#include <soci/soci.h>

#include <algorithm>
#include <map>

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

std::vector<NoteAttribution> note_attribution(Tx& tx, const MerchantId& merchant) {
    std::map<std::string, NoteAttribution> by_note;
    const std::string m = merchant.str();
    std::string note;
    {
        // The shop's notes in one read: tagging its SKUs, added to carts, or named on its lines.
        std::string title, author;
        long long views = 0;
        soci::indicator views_ind = soci::i_null;
        Query q(tx,
                "SELECT n.id, n.title, n.author_id, st.views FROM notes n "
                "LEFT JOIN note_stats st ON st.note_id = n.id WHERE n.id IN ("
                "SELECT ns.note_id FROM note_skus ns JOIN skus s ON s.id = ns.sku_id "
                "WHERE s.merchant_id = :m1 "
                "UNION SELECT c.note_id FROM note_sku_stats c JOIN skus s2 ON s2.id = c.sku_id "
                "WHERE s2.merchant_id = :m2 "
                "UNION SELECT l.note_id FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE o.merchant_id = :m3 AND l.note_id IS NOT NULL)");
        q.into(note).into(title).into(author).into(views, views_ind).use(m).use(m).use(m);
        q.execute();
        while (q.fetch()) {
            auto& a = by_note[note];
            a.note_id = NoteId::trusted(note);
            a.title = title;
            a.author_id = author;
            a.views = views_ind == soci::i_ok ? views : 0;
        }
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
    {
        long long orders = 0, units = 0, gmv = 0;
        Query q(tx,
                "SELECT l.note_id, COUNT(DISTINCT l.order_id), SUM(l.quantity), "
                "SUM(l.line_total_minor) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE o.merchant_id = :m AND l.note_id IS NOT NULL AND o.status IN "
                "('paid', 'shipped', 'delivered', 'completed', 'refunded') GROUP BY l.note_id");
        q.into(note).into(orders).into(units).into(gmv).use(m);
        q.execute();
        while (q.fetch()) {
            auto it = by_note.find(note);
            if (it == by_note.end()) continue;  // a line may name a note that is gone
            it->second.orders = orders;
            it->second.units = units;
            it->second.gmv_minor = gmv;
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
