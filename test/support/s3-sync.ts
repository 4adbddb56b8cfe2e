import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

function files(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(root, r)).isDirectory()) out.push(...files(root, r));
    else out.push(r);
  }
  return out;
}

/**
 * Makes a bucket hold exactly a directory's files (key = relative path), uploading only what
 * differs, so the directory's offline expectations (test/support/expected.ts) are the bucket's.
 */
export async function syncDirToBucket(s3: S3Client, bucket: string, dir: string, previous = new Map<string, string>()): Promise<Map<string, string>> {
  const now = new Map<string, string>();
  for (const key of files(dir)) {
    const body = readFileSync(path.join(dir, key));
    const sig = body.toString('base64');
    now.set(key, sig);
    if (previous.get(key) !== sig) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const gone = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => !now.has(k));
  if (gone.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: gone.map((Key) => ({ Key })) } }));
  return now;
}
