-- The triage queue, kept in step with every Task write inside its transaction (src/consult/queue.ts):
-- the cases waiting at each facility by urgency and waiting time, so a page of the queue is one
-- index range, however many cases wait (the generic search read every waiting case of the facility).
CREATE TABLE consult_queue (
  task_rid        bigint PRIMARY KEY,      -- resource.rid of the Task (no foreign key, like care_relationship)
  organization_id text NOT NULL,
  rank            smallint NOT NULL,      -- 0 emergency (stat, asap), 1 urgent, 2 routine
  authored_on     timestamptz NOT NULL
);
CREATE INDEX consult_queue_page ON consult_queue (organization_id, rank, authored_on, task_rid);

-- The cases already waiting when this table was added.
INSERT INTO consult_queue (task_rid, organization_id, rank, authored_on)
SELECT r.rid,
       substr(v.content #>> '{owner,reference}', 14),
       CASE v.content ->> 'priority' WHEN 'stat' THEN 0 WHEN 'asap' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END,
       (v.content ->> 'authoredOn')::timestamptz
FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
WHERE r.resource_type = 'Task' AND NOT r.deleted
  AND v.content #>> '{owner,reference}' LIKE 'Organization/%'
  AND v.content ->> 'authoredOn' ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(v.content #> '{businessStatus,coding}') c
              WHERE c ->> 'system' = 'https://fhir.cauyte.vn/CodeSystem/consult-state' AND c ->> 'code' = 'submitted');
