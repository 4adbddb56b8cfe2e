/**
 * Objects under a prefix of an S3-compatible bucket. Credentials and the endpoint come from
 * the worker's standard AWS environment variables only. (Owned by the s3 source's author;
 * fields may grow.)
 */
export interface S3SourceSpec {
  kind: 's3';
  bucket: string;
  prefix?: string;
}
