/** What the parts of a case page share: reading a Composition section's text, and the page's action runner. */

/** A section's XHTML narrative as plain text (paragraphs become lines). */
export const sectionText = (html?: string) =>
  (html ?? '')
    .replace(/<\/p><p>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Runs an action of the case page, then shows `done` and reloads the case (or shows the error). */
export type Act = (fn: () => Promise<unknown>, done?: string) => Promise<void>;
