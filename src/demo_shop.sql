-- The demo shop's tables (`retentiond demo`), on SQLite.
PRAGMA application_id = 1381256772;

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT,
    phone         TEXT,
    birth_date    TEXT,
    last_ip       TEXT,
    created_at    TEXT NOT NULL,              -- ISO 8601, UTC with Z
    last_login_at TEXT NOT NULL,
    anonymized_at TEXT
);
CREATE INDEX customers_last_login_at ON customers (last_login_at);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers (id),
    placed_at        TEXT NOT NULL,           -- ISO 8601 in the shop's zone, +07:00
    status           TEXT NOT NULL,
    total_cents      INTEGER NOT NULL,
    shipping_address TEXT NOT NULL
);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE INDEX orders_customer_id ON orders (customer_id);

CREATE TABLE order_items (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    sku         TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    price_cents INTEGER NOT NULL
);
CREATE INDEX order_items_order_id ON order_items (order_id);

CREATE TABLE kyc_documents (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    kind            TEXT NOT NULL,
    document_number TEXT NOT NULL,
    verified_at     INTEGER NOT NULL,         -- Unix epoch seconds
    scan_path       TEXT                      -- the scan, under the shop's uploads folder
);
CREATE INDEX kyc_documents_verified_at ON kyc_documents (verified_at);

CREATE TABLE marketing_consents (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    email           TEXT NOT NULL,
    channel         TEXT NOT NULL,
    consented_at    TEXT NOT NULL,
    unsubscribed_at TEXT                      -- NULL while subscribed
);
CREATE INDEX marketing_consents_unsubscribed_at ON marketing_consents (unsubscribed_at);

CREATE TABLE analytics_events (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER,                    -- NULL for visitors without an account
    session_id    TEXT NOT NULL,
    ip_address    TEXT,
    user_agent    TEXT,
    path          TEXT NOT NULL,
    occurred_at   TEXT NOT NULL               -- 'YYYY-MM-DD HH:MM:SS', UTC without a zone
);
CREATE INDEX analytics_events_occurred_at ON analytics_events (occurred_at);
