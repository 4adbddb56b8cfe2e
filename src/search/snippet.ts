/**
 * One line of a chunk for a terminal: whitespace collapsed, at most `width` characters, and when
 * a query word occurs, a window around its first occurrence instead of the chunk's start.
 */
export function snippet(content: string, query: string, width = 160): string {
  const text = content.replace(/\s+/g, ' ').trim();
  if (text.length <= width) return text;
  const lower = text.toLowerCase();
  let at = -1;
  for (const w of query.toLowerCase().match(/[\p{L}\p{N}_-]{3,}/gu) ?? []) {
    const i = lower.indexOf(w);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  const start = at < 0 ? 0 : Math.max(0, Math.min(at - Math.floor(width / 4), text.length - width));
  const body = text.slice(start, start + width - (start > 0 ? 1 : 0) - (start + width < text.length ? 1 : 0));
  return `${start > 0 ? '…' : ''}${body}${start + body.length < text.length ? '…' : ''}`;
}
