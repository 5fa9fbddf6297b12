-- An administrator may revoke an OAuth client: it gets no new authorization or token from then on
-- (its client_credentials service account is disabled at the same time, which ends its tokens).
ALTER TABLE oauth_client ADD COLUMN revoked_at timestamptz;
ALTER TABLE oauth_client ADD COLUMN revoked_by text;
