-- SMART backend services: a client may authenticate with a JWT it signs with its own private key
-- (private_key_jwt); its public keys (a JWKS) are registered with it. Each assertion's jti is kept
-- until the assertion expires, so an assertion is accepted once.
ALTER TABLE oauth_client ADD COLUMN jwks jsonb;
CREATE TABLE oauth_assertion (
  client_id   text NOT NULL REFERENCES oauth_client (client_id),
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
