-- Per-topic epochs (CONTRACT §3): a random value set when a topic is created and changed by
-- relay.reset_epoch after the database is restored or moved. Clients store it beside their
-- watermark and resume with it; a resume point of another epoch gets STALE_CURSOR, so a
-- restored database never lets a client diverge silently. Existing topics get one each.
ALTER TABLE relay.topics ADD COLUMN IF NOT EXISTS epoch text NOT NULL DEFAULT gen_random_uuid()::text;
