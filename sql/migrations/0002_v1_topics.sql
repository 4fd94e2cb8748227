-- The design's v1 topics. Plain inserts so that this migration does not depend on the functions.
INSERT INTO relay.topics (topic)
VALUES ('runtime.run_summaries'),
       ('runtime.codex_worker_summaries'),
       ('runtime.notifications')
ON CONFLICT (topic) DO NOTHING;
