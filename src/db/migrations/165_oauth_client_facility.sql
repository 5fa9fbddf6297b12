-- The facility an OAuth client (a SMART app) was registered for: a facility administrator's
-- registration belongs to their facility; NULL = platform-wide (registered by a system
-- administrator, or before this column existed). GET /api/smart/apps lists to a clinician only
-- the platform-wide apps and those of their own facility; a launch of another facility's app is refused.
ALTER TABLE oauth_client ADD COLUMN organization_id text;
