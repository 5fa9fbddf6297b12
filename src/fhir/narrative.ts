/** FHIR narrative (XHTML div) from plain text and back: one paragraph per line, escaped. */
export function htmlDiv(text: string): string {
  const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<div xmlns="http://www.w3.org/1999/xhtml">${esc
    .split(/\n/)
    .map((l) => `<p>${l}</p>`)
    .join('')}</div>`;
}

export function narrativeText(div: string): string {
  return div
    .replace(/<\/p>\s*<p>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}
