#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fixtures/fuzz/<target>/) in the byte layout each
target reads with FuzzedDataProvider: strings from the front (a backslash doubled, "\\;" ends a
string), the remaining bytes as the last string, and the choices as single bytes from the end
(the first choice read is the last byte). Run from the repository root; the output is committed.
"""
import hmac, hashlib, json, os, shutil, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "fuzz")


def s(text, limit=None):
    """A ConsumeRandomLengthString field (ended explicitly)."""
    b = text.encode() if isinstance(text, str) else text
    return b.replace(b"\\", b"\\\\") + b"\\;"


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def reset(target):
    shutil.rmtree(os.path.join(OUT, target), ignore_errors=True)


# ---- router: method, caller, content type, Idempotency-Key, Payment-Signature, target, body ----
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
CALLERS = ["usr_lin", "usr_mei", "mer_westlaketea", "mer_glowlab", "admin", None]
WEBHOOK_SECRET = b"router_fuzz_webhook_secret_0123456789ab"


def router(name, method, target, body="", caller=None, idem=None, signed=False):
    front = b""
    m = METHODS.index(method) if method in METHODS else len(METHODS)
    if m == len(METHODS):
        front += s(method)
    who = CALLERS.index(caller)
    ct = 1 if body else 0
    if idem is not None:
        front += s(idem)
    sig = 1 if signed else 0
    front += s(target)
    data = front + body.encode() + bytes([sig, 1 if idem is not None else 0, ct, who, m])
    write("router", name, data)


ADDRESS = {"name": "Mei", "phone": "13900000000", "line1": "2 Lake Rd", "city": "Hangzhou",
           "postal_code": "310000", "country": "CN"}
PRODUCT = {"title": "Tieguanyin", "description": "Anxi oolong",
           "media": [{"type": "image", "url": "https://media.redloop.dev/t.jpg"}],
           "commission_rate_bps": 500,
           "skus": [{"title": "100 g", "price": {"amount": 8800, "currency": "CNY"}, "stock": 50,
                     "per_user_limit": 2}]}


def router_seeds():
    reset("router")
    j = json.dumps
    router("healthz", "GET", "/healthz")
    router("metrics", "GET", "/metrics")
    router("readyz", "HEAD", "/readyz")
    router("note", "GET", "/v1/notes/nte_springtea")
    router("notes_by_sku", "GET", "/v1/notes?sku_id=sku_longjing50g&limit=5&cursor=")
    router("product", "GET", "/v1/products/prd_longjing")
    router("sku", "GET", "/v1/skus/sku_longjing50g")
    router("sku_inventory", "GET", "/v1/skus/sku_longjing50g/inventory", caller="mer_westlaketea")
    router("inventory", "GET", "/v1/inventory?limit=100", caller="mer_westlaketea")
    router("create_product", "POST", "/v1/products", j(PRODUCT), caller="mer_westlaketea",
           idem="prod-1")
    router("patch_product", "PATCH", "/v1/products/prd_longjing",
           j({"title": "Longjing", "status": "archived", "commission_rate_bps": 100}),
           caller="mer_westlaketea")
    router("patch_sku", "PATCH", "/v1/skus/sku_longjing50g",
           j({"price": {"amount": 7000, "currency": "CNY"}}), caller="mer_westlaketea")
    router("stock", "POST", "/v1/skus/sku_longjing50g/stock-adjustments",
           j({"delta": -5, "reason": "damaged"}), caller="mer_westlaketea")
    router("merchant_me", "GET", "/v1/merchants/me", caller="mer_glowlab")
    router("merchant_patch", "PATCH", "/v1/merchants/me",
           j({"name": "Glow", "shipping_fee": {"amount": 500, "currency": "CNY"},
              "free_shipping_over": None, "return_window_days": 14}), caller="mer_glowlab")
    router("create_note", "POST", "/v1/notes",
           j({"title": "Oolong evening", "body": "...", "media": [],
              "products": [{"sku_id": "sku_longjing50g"}]}), caller="usr_mei")
    router("cart_put", "PUT", "/v1/cart/items/sku_longjing50g",
           j({"quantity": 2, "note_id": "nte_springtea"}), caller="usr_mei")
    router("cart_get", "GET", "/v1/cart", caller="usr_mei")
    router("cart_delete", "DELETE", "/v1/cart/items/sku_longjing50g", caller="usr_mei")
    router("checkout", "POST", "/v1/checkouts",
           j({"shipping_address": ADDRESS, "coupon_codes": ["SPRING10"]}), caller="usr_mei",
           idem="first-try")
    router("checkout_get", "GET", "/v1/checkouts/chk_0000000000000001", caller="usr_mei")
    router("checkout_extend", "POST", "/v1/checkouts/chk_0000000000000001/extend",
           caller="usr_mei")
    router("confirm", "POST", "/v1/payments/pay_0000000000000001/confirm",
           j({"card_number": "4242424242424242"}), caller="usr_mei")
    router("orders", "GET", "/v1/orders?status=paid&limit=20", caller="mer_westlaketea")
    router("orders_admin", "GET", "/v1/orders", caller="admin")
    router("order_ship", "POST", "/v1/orders/ord_0000000000000001/ship",
           j({"carrier": "SF", "tracking_number": "SF123"}), caller="mer_westlaketea")
    router("order_cancel", "POST", "/v1/orders/ord_0000000000000001/cancel", "{}",
           caller="usr_mei")
    router("refund", "POST", "/v1/orders/ord_0000000000000001/refunds",
           j({"amount": {"amount": 100, "currency": "CNY"}, "reason": "late", "restock": True}),
           caller="mer_westlaketea", idem="refund-1")
    router("coupon", "POST", "/v1/coupons",
           j({"code": "SPRING10", "kind": "percent", "value": 10, "min_spend":
              {"amount": 1000, "currency": "CNY"}, "starts_at": "2026-01-01T00:00:00Z",
              "max_redemptions": 100, "per_user_limit": 1}), caller="mer_westlaketea")
    router("coupon_get", "GET", "/v1/coupons/SPRING10")
    router("coupon_patch", "PATCH", "/v1/coupons/SPRING10", j({"status": "disabled"}),
           caller="mer_westlaketea")
    router("earnings", "GET", "/v1/creators/me/earnings", caller="usr_lin")
    router("commissions", "GET", "/v1/merchants/me/commissions", caller="mer_westlaketea")
    router("analytics", "GET", "/v1/analytics/notes", caller="mer_westlaketea")
    router("personal_data", "DELETE", "/v1/users/me/personal-data", caller="usr_lin")
    router("webhook", "POST", "/v1/webhooks/payments",
           j({"id": "evt_1", "type": "payment.succeeded",
              "data": {"payment_id": "pay_0000000000000001",
                       "amount": {"amount": 6800, "currency": "CNY"}}}), signed=True)
    router("percent_path", "GET", "/v1/notes/nte%5Fspringtea?x=%20&&a=b=c#frag")
    router("method_other", "OPTIONS", "/v1/products")


# ---- commands: the first byte picks the decoder ----
DECODERS = ["create_product", "product_patch", "sku_patch", "stock_adjustment", "merchant_patch",
            "create_note", "set_cart_line", "checkout", "create_coupon", "coupon_patch",
            "shipment", "confirm", "create_refund", "provider_event"]


def command_seeds():
    reset("commands")
    bodies = {
        "create_product": PRODUCT,
        "product_patch": {"title": "x", "description": "", "status": "active"},
        "sku_patch": {"price": {"amount": 1, "currency": "CNY"}},
        "stock_adjustment": {"delta": 10, "reason": "restock"},
        "merchant_patch": {"name": "Shop", "shipping_fee": {"amount": 800, "currency": "CNY"},
                           "free_shipping_over": {"amount": 19900, "currency": "CNY"},
                           "return_window_days": 7},
        "create_note": {"title": "t", "body": "b",
                        "media": [{"type": "video", "url": "https://x/v.mp4"}],
                        "products": [{"sku_id": "sku_a"}, {"sku_id": "sku_b"}]},
        "set_cart_line": {"quantity": 3, "note_id": "nte_springtea"},
        "checkout": {"shipping_address": ADDRESS, "coupon_codes": ["spring10", "SHIP5"]},
        "create_coupon": {"code": "SHIP5", "kind": "amount", "value": 500,
                          "ends_at": "2027-01-01T00:00:00.000Z", "max_redemptions": 5},
        "coupon_patch": {"status": "active", "ends_at": None, "max_redemptions": 9},
        "shipment": {"carrier": "SF Express", "tracking_number": "SF1234567890"},
        "confirm": {"card_number": "4000000000000002"},
        "create_refund": {"amount": {"amount": 6800, "currency": "CNY"}, "reason": "r",
                          "restock": False},
        "provider_event": {"id": "evt_abc", "type": "refund.succeeded",
                           "data": {"payment_id": "pay_1", "refund_id": "ref_1",
                                    "amount": {"amount": 5, "currency": "CNY"}}},
    }
    for i, name in enumerate(DECODERS):
        write("commands", name, bytes([i]) + json.dumps(bodies[name], ensure_ascii=False).encode())
    write("commands", "all_decoders_unknown_field", bytes([14]) + b'{"title":"a","extra":1}')
    write("commands", "deep", bytes([0]) + b'{"skus":[' * 20 + b']' * 20 + b'}')
    write("commands", "empty_object", bytes([14]) + b"{}")
    write("commands", "big_numbers", bytes([3]) + b'{"delta":9223372036854775808,"reason":"x"}')
    write("commands", "unicode", bytes([5]) + '{"title":"西湖\\u0000","body":"\\ud83d\\ude00"}'.encode())


# ---- payment_signature: mode (last byte), then the header or a timestamp ----
NOW = 1_780_000_000


def i64(v):
    return struct.pack("<Q", (v + (1 << 63)) % (1 << 64))


def payment_signature_seeds():
    reset("payment_signature")
    body = b'{"id":"evt_1","type":"payment.succeeded","data":{"payment_id":"pay_1","amount":{"amount":6800,"currency":"CNY"}}}'
    secret = b"whsec_fuzz_0123456789abcdef0123456789abcdef"
    sig = hmac.new(secret, str(NOW).encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "valid": f"t={NOW},v1={sig}",
        "two_v1": f"t={NOW}, v1={'0' * 64},v1={sig.upper()}",
        "v0_ignored": f"v0=abc,t={NOW},v1={sig}",
        "stale": f"t={NOW - 301},v1={sig}",
        "no_t": f"v1={sig}",
        "negative_t": f"t=-1,v1={sig}",
        "huge_t": f"t=99999999999999999999,v1={sig}",
        "no_equals": "t",
        "empty_elements": ",,, ,t=1,,v1=" + "a" * 64,
    }
    for name, h in headers.items():
        write("payment_signature", "parse_" + name, s(h) + body + bytes([0]))
    for name, t in {"now": NOW, "edge_past": NOW - 300, "edge_future": NOW + 300,
                    "past": NOW - 301, "zero": 0, "min": -(1 << 63), "max": (1 << 63) - 1}.items():
        write("payment_signature", "signed_" + name, body + i64(t) + bytes([1]))
    write("payment_signature", "wrapped", s("v0=x, t=5") + s(" v1=zz ") + body + i64(NOW) +
          bytes([2]))


# ---- jwt: mode (last byte) ----
def b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt_seeds():
    reset("jwt")
    secret = b"jwt_fuzz_secret_0123456789abcdef0123456789"
    exp = NOW + 3600

    def signed(header, claims):
        si = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        return si + "." + b64url(hmac.new(secret, si.encode(), hashlib.sha256).digest())

    good = signed({"alg": "HS256", "typ": "JWT"}, {"sub": "usr_lin", "role": "user", "exp": exp})
    raw = {
        "valid": "Bearer " + good,
        "lower_scheme": "bearer " + good,
        "alg_none": "Bearer " + b64url(b'{"alg":"none"}') + "." +
                    b64url(json.dumps({"sub": "usr_lin", "role": "user", "exp": exp}).encode()) + ".",
        "hs512": "Bearer " + signed({"alg": "HS512"}, {"sub": "usr_lin", "role": "user", "exp": exp}),
        "wrong_secret": "Bearer " + good[:-4] + "AAAA",
        "garbage": "Bearer a.b.c",
        "basic": "Basic dXNlcjpwYXNz",
    }
    for name, a in raw.items():
        write("jwt", "header_" + name, a.encode() + bytes([0]))
    claims = {
        "user": {"sub": "usr_lin", "role": "user", "exp": exp},
        "merchant": {"sub": "mer_westlaketea", "role": "merchant", "exp": exp, "iat": NOW},
        "admin": {"sub": "usr_admin", "role": "admin", "exp": exp},
        "expired": {"sub": "usr_lin", "role": "user", "exp": NOW - 1},
        "exp_string": {"sub": "usr_lin", "role": "user", "exp": "soon"},
        "exp_float": {"sub": "usr_lin", "role": "user", "exp": 1.5e12},
        "role_mismatch": {"sub": "mer_x", "role": "user", "exp": exp},
        "unknown_role": {"sub": "usr_x", "role": "root", "exp": exp},
        "no_sub": {"role": "user", "exp": exp},
        "sub_number": {"sub": 7, "role": "user", "exp": exp},
    }
    for name, c in claims.items():
        write("jwt", "claims_" + name, s(json.dumps({"alg": "HS256", "typ": "JWT"})) +
              json.dumps(c).encode() + bytes([1]))
    write("jwt", "claims_typ_other", s('{"alg":"HS256","typ":"JWS"}') +
          json.dumps(claims["user"]).encode() + bytes([1]))
    # mode 2: role byte, then 4 bytes of lifetime (little-endian, offset by -1e6), the sub.
    for name, sub, role, ttl in [("mint_user", "usr_lin", 0, 3600),
                                 ("mint_merchant", "mer_westlaketea", 1, 60),
                                 ("mint_admin", "usr_admin", 2, 1),
                                 ("mint_mismatch", "mer_x", 0, 3600),
                                 ("mint_expired", "usr_lin", 0, -5)]:
        write("jwt", name, sub.encode() + struct.pack("<I", ttl + 1_000_000) + bytes([role, 2]))


# ---- journal: lines of the recorded journals ----
def journal_seeds():
    reset("journal")
    seen_kinds = {}
    jdir = os.path.join(ROOT, "fixtures", "journals")
    for fname in sorted(os.listdir(jdir)):
        if not fname.endswith(".jsonl"):
            continue
        with open(os.path.join(jdir, fname), encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                key = (e["kind"], e.get("method"), e.get("target", "").split("/")[2:3] and
                       e["target"].split("/")[2] if e["kind"] == "http" else "")
                if key in seen_kinds:
                    continue
                seen_kinds[key] = True
                write("journal", f"{len(seen_kinds):02d}_{e['kind']}", line.rstrip("\n"))
                if len(seen_kinds) >= 30:
                    break
    write("journal", "bad_ids", '{"seq":1,"at":0,"kind":"http","actor":"a","role":"r",'
          '"method":"GET","target":"/","idem_key":null,"request_id":"","body":"",'
          '"ids":[1],"status":200,"response_sha256":""}')
    write("journal", "uint_seq", '{"seq":18446744073709551615,"at":0}')


# ---- ws_message ----
def ws_seeds():
    reset("ws_message")
    msgs = {
        "orders": {"op": "subscribe", "topic": "orders"},
        "resume": {"op": "subscribe", "topic": "orders", "after_seq": 42},
        "note": {"op": "subscribe", "topic": "note:nte_springtea"},
        "sku": {"op": "subscribe", "topic": "sku:sku_longjing50g", "after_seq": 0},
        "earnings": {"op": "subscribe", "topic": "earnings"},
        "inventory": {"op": "subscribe", "topic": "inventory"},
        "unsubscribe": {"op": "unsubscribe", "topic": "sku:sku_longjing50g"},
        "unsub_after": {"op": "unsubscribe", "topic": "orders", "after_seq": 1},
        "bad_op": {"op": "publish", "topic": "orders"},
        "bad_topic": {"op": "subscribe", "topic": "sku:bad id"},
        "negative": {"op": "subscribe", "topic": "orders", "after_seq": -1},
        "extra": {"op": "subscribe", "topic": "orders", "x": True},
        "long_topic": {"op": "subscribe", "topic": "note:" + "a" * 120},
    }
    for name, m in msgs.items():
        write("ws_message", name, json.dumps(m))
    write("ws_message", "not_json", "subscribe orders")
    write("ws_message", "array", '[{"op":"subscribe"}]')


if __name__ == "__main__":
    router_seeds()
    command_seeds()
    payment_signature_seeds()
    jwt_seeds()
    journal_seeds()
    ws_seeds()
