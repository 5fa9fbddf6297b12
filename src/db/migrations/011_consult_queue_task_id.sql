-- The triage queue names its Task by id too, so the consult domain reads a page from its own table
-- (src/consult/queue.ts) and then the Tasks through the acting repository, which checks and audits
-- them — instead of joining the store's tables itself.
ALTER TABLE consult_queue ADD COLUMN task_id text;
UPDATE consult_queue q SET task_id = r.id FROM resource r WHERE r.rid = q.task_rid;
DELETE FROM consult_queue WHERE task_id IS NULL;
ALTER TABLE consult_queue ALTER COLUMN task_id SET NOT NULL;
