/**
 * One line of a chunk for a terminal: whitespace collapsed, at most `width` characters, and when
 * a query word occurs, a window around the first occurrence of the longest one found instead of the chunk's start.
 */
export function snippet(content: string, query: string, width = 160): string {
  const text = content.replace(/\s+/g, ' ').trim();
  if (text.length <= width) return text;
  const lower = text.toLowerCase();
  let at = -1;
  // The longest query word found: codes and names are long, stop words short.
  const words = (query.toLowerCase().match(/[\p{L}\p{N}_-]{3,}/gu) ?? []).sort((a, b) => b.length - a.length);
  for (const w of words) {
    at = lower.indexOf(w);
    if (at >= 0) break;
  }
  const start = at < 0 ? 0 : Math.max(0, Math.min(at - Math.floor(width / 4), text.length - width));
  const body = text.slice(start, start + width - (start > 0 ? 1 : 0) - (start + width < text.length ? 1 : 0));
  return `${start > 0 ? '…' : ''}${body}${start + body.length < text.length ? '…' : ''}`;
}
