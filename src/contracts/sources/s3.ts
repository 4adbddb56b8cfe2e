/**
 * Objects under a prefix of a bucket on S3 or any S3-compatible store. Credentials, region and
 * endpoint come from the worker's standard AWS environment only (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), never
 * from workflow input. Document ids are the objects' keys.
 */
export interface S3SourceSpec {
  kind: 's3';
  bucket: string;
  prefix?: string;
  /** Overrides AWS_REGION for this bucket (not a secret). */
  region?: string;
}
