import mammoth from 'mammoth';
import yauzl from 'yauzl';
import { DocumentError } from '../../errors';
import { htmlSections } from '../html-sections';
import type { Format } from './types';

/**
 * Sums the uncompressed sizes the zip's central directory declares, without inflating anything.
 * A zip bomb (a few KB that inflate to gigabytes) is refused here, before mammoth inflates it.
 */
function declaredUnzippedBytes(id: string, bytes: Uint8Array): Promise<{ total: number; entries: number }> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) {
        reject(new DocumentError('CorruptDocument', `${id}: is not a readable zip container, so not a DOCX (${err?.message ?? 'no entries'})`));
        return;
      }
      let total = 0;
      let entries = 0;
      zip.on('entry', (e: yauzl.Entry) => {
        total += e.uncompressedSize;
        entries++;
        zip.readEntry();
      });
      zip.on('end', () => resolve({ total, entries }));
      zip.on('error', (e: Error) => reject(new DocumentError('CorruptDocument', `${id}: has a broken zip directory (${e.message})`)));
      zip.readEntry();
    });
  });
}

/**
 * DOCX through mammoth into HTML, then the HTML path: Word's heading styles become h1–h6, so
 * sections and heading paths follow the document's outline. Images are dropped (no base64 blobs
 * in the text). Refused per document: not a zip, a zip whose entries would inflate past
 * `maxUnzippedBytes`, or a zip that is not a Word document.
 */
export const docx: Format = {
  name: 'docx',
  extensions: ['.docx'],
  async extract(bytes, ctx) {
    const id = ctx.documentId;
    if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 0x03 || bytes[3] !== 0x04) {
      throw new DocumentError('FormatMismatch', `${id}: is named .docx but is not a zip container, so not a Word document`);
    }
    const { total } = await declaredUnzippedBytes(id, bytes);
    if (total > ctx.limits.maxUnzippedBytes) {
      throw new DocumentError(
        'ZipBomb',
        `${id}: would inflate from ${bytes.length} to ${total} bytes; the limit is ${ctx.limits.maxUnzippedBytes} (VECTOR_INGEST_MAX_UNZIPPED_BYTES)`,
      );
    }
    let html: string;
    try {
      const r = await mammoth.convertToHtml(
        { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) },
        {
          convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
          // Word's Title style is the document's title (mammoth's default map makes it a paragraph).
          styleMap: ["p[style-name='Title'] => h1:fresh"],
        },
      );
      html = r.value;
    } catch (err) {
      throw new DocumentError('CorruptDocument', `${id}: cannot be read as a Word document (${((err as Error).message ?? String(err)).slice(0, 200)})`);
    }
    const { title, sections } = htmlSections(html);
    return { sections, metadata: { title } };
  },
};
