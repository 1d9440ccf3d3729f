-- The table postgres-sink writes. Apply it once before the kernel starts:
--   psql "$POSTGRES_SINK_DATABASE_URL" -f schema.sql
CREATE TABLE IF NOT EXISTS orders (
  event_id   text PRIMARY KEY,            -- the input's event-id: a message delivered again finds its row
  order_id   text NOT NULL UNIQUE,        -- one row per order: a second event for a stored order is refused
  customer   text NOT NULL,
  amount     numeric(12, 2) NOT NULL CHECK (amount >= 0),
  source     text NOT NULL,               -- topic/partition@offset of the record the row came from
  deliveries integer NOT NULL DEFAULT 1,  -- times the row was written: above 1 when a message came again
  stored_at  timestamptz NOT NULL DEFAULT now()
);
