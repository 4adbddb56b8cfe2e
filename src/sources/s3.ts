import type { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ConfigError, DocumentError } from '../errors';
import { formatOf } from '../text/extract';
import type { S3SourceSpec } from '../contracts/sources/s3';
import { defineSourceKind, type Source, type SourceItem, type SourcePage } from './types';

type S3Sdk = typeof import('@aws-sdk/client-s3');
let loaded: S3Sdk | undefined;
/** The SDK is loaded on first use: every CLI command imports the source registry, few read S3. */
function sdk(): S3Sdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('@aws-sdk/client-s3') as S3Sdk;
  return loaded;
}

const FORBIDDEN_KEYS = ['endpoint', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'credentials'];
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

type Env = Readonly<Record<string, string | undefined>>;
/** Clients the worker shares between activities, created on first use, closed with the worker. */
export type SharedClients = <T>(key: string, create: () => T, close: (client: T) => Promise<void> | void) => T;

/** The endpoint of S3-compatible stores, from the environment (path-style addressing then). */
export function s3Endpoint(env: Env): string | undefined {
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

const processClients = new Map<string, unknown>();
const perProcess: SharedClients = (key, create) => {
  if (!processClients.has(key)) processClients.set(key, create());
  return processClients.get(key) as ReturnType<typeof create>;
};

export class S3Source implements Source {
  readonly bucket: string;
  readonly prefix: string;
  private readonly region: string;
  private readonly endpoint: string | undefined;

  constructor(
    spec: S3SourceSpec,
    private readonly env: Env = process.env,
    private readonly shared: SharedClients = perProcess,
  ) {
    const leaked = FORBIDDEN_KEYS.filter((k) => k in (spec as unknown as Record<string, unknown>));
    if (leaked.length > 0) {
      throw new ConfigError(
        `source.${leaked[0]} is not accepted: an s3 source takes its endpoint and credentials from the worker's environment ` +
          '(AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE), never from workflow input',
      );
    }
    if (typeof spec.bucket !== 'string' || !BUCKET.test(spec.bucket)) {
      throw new ConfigError(`source.bucket must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-'), got ${JSON.stringify(spec.bucket)}`);
    }
    if (spec.prefix !== undefined && typeof spec.prefix !== 'string') throw new ConfigError('source.prefix must be a string');
    this.bucket = spec.bucket;
    this.prefix = spec.prefix ?? '';
    this.region = spec.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    this.endpoint = s3Endpoint(env);
  }

  describe(): string {
    const where = this.endpoint ? ` on ${redact(this.endpoint)}` : '';
    return `s3://${this.bucket}/${this.prefix}${where}`;
  }

  /**
   * One client per (region, endpoint, credentials) per worker. Credentials are read from the
   * worker's environment by the SDK's default chain (env, profile, container/instance roles).
   */
  private get client(): S3Client {
    const { region, endpoint, env } = this;
    const keyId = env.AWS_ACCESS_KEY_ID ?? env.AWS_PROFILE ?? '';
    return this.shared(
      `s3|${region}|${endpoint ?? ''}|${keyId}`,
      () =>
        new (sdk().S3Client)({
          region,
          ...(endpoint && { endpoint, forcePathStyle: true }),
          ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && {
            credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) },
          }),
          // Temporal owns retries (one retry layer, not two multiplying each other).
          maxAttempts: 1,
          requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
        }),
      (c) => c.destroy(),
    );
  }

  /** Lists one key: the bucket exists, the endpoint answers, the credentials are accepted. */
  async validate(): Promise<void> {
    try {
      await this.client.send(new (sdk().ListObjectsV2Command)({ Bucket: this.bucket, Prefix: this.prefix || undefined, MaxKeys: 1 }));
    } catch (err) {
      throw this.listingError(err, true);
    }
  }

  /**
   * Keys after the cursor in S3's order (UTF-8 binary), with ListObjectsV2's StartAfter = the
   * last key of the previous page: a cursor that is plain, short, survives continue-as-new and an
   * endpoint restart, and never expires. Keys ending in '/' (folder markers) and keys without a
   * supported extension are skipped. Fingerprint = ETag + size: an unchanged object is not read.
   */
  async listPage(cursor: string | null, limit: number): Promise<SourcePage> {
    const items: SourceItem[] = [];
    let startAfter = cursor ?? undefined;
    let more = false;
    // Keys without a supported format are counted by the page that holds the next document (or
    // by the last page): the next page starts after this page's last document and lists them again.
    let filesUnsupported = 0;
    let pendingUnsupported = 0;
    for (;;) {
      let res;
      try {
        res = await this.client.send(
          new (sdk().ListObjectsV2Command)({ Bucket: this.bucket, Prefix: this.prefix || undefined, StartAfter: startAfter, MaxKeys: Math.min(1000, limit + 1) }),
        );
      } catch (err) {
        throw this.listingError(err, cursor === null);
      }
      const contents = res.Contents ?? [];
      for (const o of contents) {
        const key = o.Key;
        if (!key || key.endsWith('/')) continue;
        const format = formatOf(key);
        if (!format) {
          pendingUnsupported++;
          continue;
        }
        if (items.length === limit) {
          more = true;
          break;
        }
        filesUnsupported += pendingUnsupported;
        pendingUnsupported = 0;
        items.push({ id: key, format, fingerprint: `${o.ETag ?? ''}:${o.Size ?? ''}` });
      }
      if (more || !res.IsTruncated || contents.length === 0) break;
      startAfter = contents[contents.length - 1]!.Key;
    }
    if (!more) filesUnsupported += pendingUnsupported;
    return { items, nextCursor: more ? items[items.length - 1]!.id : null, skipped: { filesExcluded: 0, directoriesExcluded: 0, filesUnsupported } };
  }

  async read(item: SourceItem, maxBytes: number): Promise<Uint8Array> {
    let res;
    try {
      res = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.bucket, Key: item.id }));
    } catch (err) {
      throw this.readError(item.id, err);
    }
    const body = res.Body;
    if (res.ContentLength !== undefined && res.ContentLength > maxBytes) {
      body?.transformToWebStream().cancel().catch(() => undefined);
      throw new DocumentError('DocumentTooLarge', `${item.id}: is ${res.ContentLength} bytes; the limit is ${maxBytes} (VECTOR_INGEST_MAX_DOCUMENT_BYTES)`);
    }
    if (!body) return new Uint8Array();
    try {
      return await body.transformToByteArray();
    } catch (err) {
      throw new Error(`${this.describe()}: reading ${item.id} broke off: ${(err as Error).message}`);
    }
  }

  private listingError(err: unknown, firstPage: boolean): Error {
    const what = this.describe();
    const name = (err as { name?: string }).name ?? '';
    const status = (err as S3ServiceException).$metadata?.httpStatusCode;
    if (name === 'NoSuchBucket') return new ConfigError(`${what}: bucket ${this.bucket} does not exist`);
    if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled'].includes(name) || status === 401 || status === 403) {
      return new ConfigError(`${what}: access refused (${name || status}); check the worker's AWS credentials and the bucket policy`);
    }
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test((err as Error).message ?? '')) {
      return new ConfigError(`${what}: no AWS credentials in the worker's environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)`);
    }
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
      return new ConfigError(`${what}: the bucket is in another region than ${this.region}; set AWS_REGION or source.region`);
    }
    if (err instanceof sdk().S3ServiceException && status !== undefined && status >= 400 && status < 500) {
      return new ConfigError(`${what}: listing refused (${name} ${status}): ${err.message}`);
    }
    const code = (err as { code?: string }).code ?? name;
    const unreachable = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'TimeoutError'].includes(code);
    if (unreachable && firstPage) return new ConfigError(`${what}: the endpoint cannot be reached (${code})`);
    // 5xx, throttling, a connection lost in the middle of a run: the listing is retried.
    return new Error(`${what}: listing failed (${code || status}): ${(err as Error).message}`);
  }

  private readError(key: string, err: unknown): Error {
    const name = (err as { name?: string }).name ?? '';
    const status = (err as S3ServiceException).$metadata?.httpStatusCode;
    if (name === 'NoSuchKey' || status === 404) return new DocumentError('DocumentVanished', `${key}: was listed but no longer exists`);
    if (name === 'AccessDenied' || status === 403) return new DocumentError('UnreadableDocument', `${key}: access denied`);
    if (name === 'InvalidObjectState') return new DocumentError('UnreadableDocument', `${key}: is archived (restore it first)`);
    if (err instanceof sdk().S3ServiceException && status !== undefined && status >= 400 && status < 500) {
      return new DocumentError('UnreadableDocument', `${key}: cannot be read (${name} ${status})`);
    }
    return new Error(`${this.describe()}: reading ${key} failed (${name || status}): ${(err as Error).message}`);
  }
}

function redact(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'a custom endpoint';
  }
}

export const s3Source = defineSourceKind({
  kind: 's3',
  open: (spec, ctx) => new S3Source(spec, ctx.env, (key, create, close) => ctx.shared(key, create, close)),
});
