/**
 * The outcome of the last action on a page: an error (announced at once, role="alert") and/or a
 * confirmation (role="status"). Nothing is rendered for an empty value. Texts come already
 * translated from the page (Vietnamese first).
 */
export function Notices({ error, message }: { error?: string | null; message?: string | null }) {
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {message && (
        <p class="ok" role="status">
          {message}
        </p>
      )}
    </>
  );
}
